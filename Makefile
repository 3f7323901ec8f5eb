# SPDX-License-Identifier: GPL-2.0
#
# pinmdl: out-of-tree build of pinmdl.ko (the sources are listed in Kbuild).
#
#   make [KDIR=...]          build against KDIR (default: the running kernel)
#   make modules_install     install into INSTALL_MOD_PATH under KDIR's release
#   make check               the whole test suite, in QEMU guests
#   make lint                checkpatch, kernel-doc, uapi, sparse and W=1
#   make demo                load the modules in a guest and show them working
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

clean:
	rm -rf build
	rm -f *.ko *.o *.mod *.mod.c .*.cmd modules.order Module.symvers
	rm -f module/*.o module/.*.cmd

check:
	scripts/check

lint:
	scripts/lint

demo:
	scripts/demo

.PHONY: all modules modules_install clean check lint demo
