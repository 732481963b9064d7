# A Python 2 era setup.py: the print statement is not Python 3 syntax
from distutils.core import setup

print "building legacy"
setup(name='legacy', version='0.9', install_requires=['simplejson==3.8.2', 'six>=1.10'])
