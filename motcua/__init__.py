"""motcua: load-testing and simulation workbench for online payment of public-service fees.

"Một cửa" is the one-stop-shop counter where citizens file dossiers (hồ sơ) in person;
this workbench models what happens when they pay the fees online instead.
"""

__version__ = "0.1.0"
