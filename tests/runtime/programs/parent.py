"""A Python program that runs another Python program that stalls."""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
subprocess.run([sys.executable, os.path.join(here, "sleep.py")] + sys.argv[1:], check=True)
