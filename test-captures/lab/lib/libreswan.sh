# libreswan.sh: placeholder
