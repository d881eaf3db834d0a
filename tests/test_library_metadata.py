"""What a library chain names: the distribution from its metadata, and only files inside the environment."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import List

import pytest

from detector import config as config_module
from detector.runner import check_paths
from fake_environment import install, write

SLEEPS = "import time\n\ndef slow():\n    time.sleep(1)\n"


def _messages(tmp_path: Path, venv: Path, source: str) -> List[str]:
    root = tmp_path / "proj"
    write(root, {"app.py": source, "pyproject.toml": "[project]\nname = 'app'\n"})
    result = check_paths([root], config_module.load(start=root), jobs=1, python=str(venv))
    assert result.errors == []
    return [finding.message for finding in result.findings]


def _labels(messages: List[str]) -> List[str]:
    """The distribution each message names after its library location."""
    return [match.group(1) for match in (re.search(r"at site-packages/\S+ \(([^)]*)\)", m) for m in messages) if match]


def _calls(*modules: str) -> str:
    imports = "".join(f"import {module}\n" for module in modules)
    return imports + "\n\nasync def main():\n" + "".join(f"    {module}.slow()\n" for module in modules)


def _dist_info(site: Path, directory: str, top_level: str, **files: bytes) -> Path:
    info = site / f"{directory}.dist-info"
    info.mkdir()
    (info / "top_level.txt").write_text(top_level + "\n")
    for name, data in files.items():
        (info / name).write_bytes(data)
    return info


def test_the_distribution_label_is_the_name_and_version_metadata_gives(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    site = install(venv, {"charset_normalizer/__init__.py": SLEEPS})
    _dist_info(site, "charset_normalizer-3.5.3", "charset_normalizer",
               METADATA=b"Metadata-Version: 2.1\r\nName: charset-normalizer\r\nVersion: 3.5.3\r\n\r\nName: not-this\n")
    [message] = _messages(tmp_path, venv, _calls("charset_normalizer"))
    assert "(charset-normalizer 3.5.3)" in message


def test_metadata_that_is_no_header_falls_back_to_the_directory_name(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    site = install(venv, {f"{name}/__init__.py": SLEEPS for name in ("fifolib", "hugelib", "junklib", "badlib", "linklib")})
    _dist_info(site, "fifolib-1.0", "fifolib")
    os.mkfifo(site / "fifolib-1.0.dist-info" / "METADATA")  # never opened for a blocking read
    # The headers come first: a long description after them is not read.
    _dist_info(site, "hugelib-2.0", "hugelib", METADATA=b"Name: HugeLib\nVersion: 2.0.1\n\n" + b"x" * (8 << 20))
    _dist_info(site, "junklib-3.0", "junklib", METADATA=os.urandom(4096).replace(b"\n", b"") + b"\nName: late\n")
    _dist_info(site, "badlib-4.0", "badlib", METADATA=b"Name: bad\x1b[31mlib\nVersion: 4.0 ; rm -rf\n")
    (tmp_path / "outside-metadata").write_text("Name: Leaked\nVersion: 6.6\n")
    _dist_info(site, "linklib-5.0", "linklib")
    (site / "linklib-5.0.dist-info" / "METADATA").symlink_to(tmp_path / "outside-metadata")  # not read
    messages = _messages(tmp_path, venv, _calls("fifolib", "hugelib", "junklib", "badlib", "linklib"))
    assert _labels(messages) == ["fifolib 1.0", "HugeLib 2.0.1", "junklib 3.0", "badlib 4.0", "linklib 5.0"]


def test_of_two_distributions_claiming_one_name_the_one_whose_record_lists_the_file_owns_it(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    site = install(venv, {"goodlib/__init__.py": SLEEPS, "ns/alpha.py": SLEEPS, "ns/beta.py": SLEEPS})
    _dist_info(site, "fakedist-9.9", "goodlib", RECORD=b"fakedist-9.9.dist-info/RECORD,,\n")
    _dist_info(site, "goodlib-1.0", "goodlib", RECORD=b"goodlib/__init__.py,sha256=x,10\n")
    # A namespace package two distributions share: each module is its own distribution's.
    _dist_info(site, "ns_alpha-1.0", "ns", RECORD=b"ns/alpha.py,sha256=x,10\n")
    _dist_info(site, "ns_beta-2.0", "ns", RECORD=b'"ns/beta.py",sha256=x,10\n')
    source = "import goodlib\nfrom ns import alpha, beta\n\n\nasync def main():\n    goodlib.slow()\n    alpha.slow()\n    beta.slow()\n"
    messages = _messages(tmp_path, venv, source)
    assert _labels(messages) == [
        "goodlib 1.0", "ns_alpha 1.0", "ns_beta 2.0"]


def test_without_a_record_that_lists_the_file_the_first_claimant_still_labels_it(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    site = install(venv, {"shared/__init__.py": SLEEPS})
    _dist_info(site, "first-1.0", "shared")
    _dist_info(site, "second-2.0", "shared", RECORD=b"\x00garbage,\"unterminated\n")
    [message] = _messages(tmp_path, venv, _calls("shared"))
    assert "(first 1.0)" in message


@pytest.mark.parametrize("where", ["package init", "top-level module", "package directory"])
def test_a_library_file_linked_to_outside_the_environment_is_not_read(tmp_path: Path, where: str) -> None:
    outside = tmp_path / "outside"
    write(outside, {"secret.py": SLEEPS, "secretpkg/__init__.py": SLEEPS})
    venv = tmp_path / "env"
    site = install(venv, {})
    if where == "package init":
        (site / "linked").mkdir()
        (site / "linked" / "__init__.py").symlink_to(outside / "secret.py")
    elif where == "top-level module":
        (site / "linked.py").symlink_to(outside / "secret.py")
    else:
        (site / "linked").symlink_to(outside / "secretpkg", target_is_directory=True)
    assert _messages(tmp_path, venv, _calls("linked")) == []


@pytest.mark.parametrize("where", ["package init", "top-level module"])
def test_a_library_file_linked_inside_site_packages_is_read(tmp_path: Path, where: str) -> None:
    venv = tmp_path / "env"
    site = install(venv, {"_impl/real.py": SLEEPS})
    if where == "package init":
        (site / "linked").mkdir()
        (site / "linked" / "__init__.py").symlink_to(Path("..") / "_impl" / "real.py")
    else:
        (site / "linked.py").symlink_to(site / "_impl" / "real.py")
    [message] = _messages(tmp_path, venv, _calls("linked"))
    assert "time.sleep" in message


def test_packages_a_store_links_into_site_packages_are_read_and_named(tmp_path: Path) -> None:
    """Nix and Guix keep each package in its own prefix and link it into the environment's
    site-packages: the same file at the same place under another site-packages directory."""
    store = install(tmp_path / "store" / "abc123-linked-2.5", {"linked/__init__.py": SLEEPS, "moved.py": SLEEPS})
    _dist_info(store, "linked-2.5", "linked", METADATA=b"Name: linked\nVersion: 2.5\n")
    venv = tmp_path / "env"
    site = install(venv, {})
    (site / "linked").symlink_to(store / "linked", target_is_directory=True)
    (site / "linked-2.5.dist-info").symlink_to(store / "linked-2.5.dist-info", target_is_directory=True)
    (site / "elsewhere.py").symlink_to(store / "moved.py")  # not where the store has it: not read
    [message] = _messages(tmp_path, venv, _calls("linked", "elsewhere"))
    assert "site-packages/linked/__init__.py:4 (linked 2.5)" in message
