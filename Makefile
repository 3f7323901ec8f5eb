# SPDX-License-Identifier: GPL-2.0
#
# pinmdl: out-of-tree build of pinmdl.ko (the sources are listed in Kbuild).
#
#   make [KDIR=...]          build against KDIR (default: the running kernel)
#   make modules_install     install into INSTALL_MOD_PATH under KDIR's release
#   make dkms-install        register with DKMS, build and install for the
#                            running kernel (and future ones)
#   make headers_install     uapi/linux/pinmdl.h into INSTALL_HDR_PATH/include
#   make udev_install        the udev rule giving group pinmdl the device
#   make man_install         pinmdl(4) and pinmdlctl(8) into MANDIR
#   make tools               pinmdlctl, with the host's CC and CFLAGS
#   make examples            the programs of examples/ into build/examples/
#   make tools_install       pinmdlctl into DESTDIR/SBINDIR
#   make coverage            gcov of module/ under KUnit and the selftests
#                            on debug-7.3: build/coverage/html/
#   make deb                 pinmdl-dkms and pinmdl-tools packages, under
#                            build/deb/ (dpkg-buildpackage, lintian)
#   make check               the whole test suite, in QEMU guests
#   make check-long          a million fuzzed calls, races and fault injection
#   make soak [MINUTES=10]   a mixed load on the debug kernel for that long
#   make lint                checkpatch, coccicheck, kernel-doc, uapi, sparse
#                            and W=1
#   make demo                load the modules in a guest and show them working
#   make bench [BENCH_ARGS=] pinmdl against the kernel's gup_test, io_uring's
#                            buffer registration and buffered I/O, and
#                            parallel locks against serial ones (not a test)
#   make profile [PROFILE_BASE=REV]
#                            where a 4 KiB read's time goes, function by
#                            function (beside REV's modules, if given)
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
INSTALL_HDR_PATH ?= /usr/local
UDEV_RULES_DIR ?= /etc/udev/rules.d
MANDIR ?= /usr/local/share/man
SBINDIR ?= /usr/local/sbin
CFLAGS ?= -O2 -g
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_SRC := /usr/src/pinmdl-$(VERSION)

# The oldest kernel pinmdl supports is 6.1: an older tree is refused here
# with one line, before Kbuild would fail on it with a screen of errors.
ifneq ($(filter all modules modules_install,$(or $(MAKECMDGOALS),all)),)
kcode := $(shell sed -n 's/^.define LINUX_VERSION_CODE //p' \
	$(KDIR)/include/generated/uapi/linux/version.h 2>/dev/null)
ifeq ($(kcode),)
$(error $(KDIR) is not a configured kernel tree: no include/generated/uapi/linux/version.h)
endif
ifneq ($(shell test $(kcode) -ge 393472 && echo ok),ok)
$(error pinmdl needs Linux 6.1 or newer; $(KDIR) is $(shell echo $$(($(kcode) >> 16)).$$(($(kcode) >> 8 & 255))))
endif
endif

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

dkms-install:
	mkdir -p $(DKMS_SRC)
	cp -r Kbuild Makefile dkms.conf module uapi $(DKMS_SRC)/
	dkms add pinmdl/$(VERSION)
	dkms build pinmdl/$(VERSION)
	dkms install pinmdl/$(VERSION)

dkms-uninstall:
	dkms remove pinmdl/$(VERSION) --all
	rm -rf $(DKMS_SRC)

headers_install:
	install -D -m 0644 uapi/linux/pinmdl.h \
		$(INSTALL_HDR_PATH)/include/linux/pinmdl.h

tools: build/pkg/pinmdlctl

build/pkg/pinmdlctl: tools/pinmdlctl.c tools/pinmdl_errors.h uapi/linux/pinmdl.h
	mkdir -p build/pkg
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wall -Wextra -Iuapi -Itools $(LDFLAGS) \
		-o $@ tools/pinmdlctl.c -luring

EXAMPLES := $(patsubst examples/%.c,build/examples/%,$(wildcard examples/*.c))

examples: $(EXAMPLES)

build/examples/%: examples/%.c tools/pinmdl_errors.h uapi/linux/pinmdl.h
	mkdir -p build/examples
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wall -Wextra -Iuapi -Itools $(LDFLAGS) \
		-o $@ $< -luring

tools_install: tools
	install -D -m 0755 build/pkg/pinmdlctl $(DESTDIR)$(SBINDIR)/pinmdlctl

deb:
	scripts/deb

coverage:
	scripts/coverage

man_install:
	install -D -m 0644 man/pinmdl.4 $(MANDIR)/man4/pinmdl.4
	install -D -m 0644 man/pinmdlctl.8 $(MANDIR)/man8/pinmdlctl.8

udev_install:
	install -D -m 0644 udev/60-pinmdl.rules \
		$(UDEV_RULES_DIR)/60-pinmdl.rules

clean:
	rm -rf build
	rm -f *.ko *.o *.mod *.mod.c .*.cmd modules.order Module.symvers
	rm -f module/*/*.o module/*/.*.cmd

check:
	scripts/check

lint:
	scripts/lint

check-long:
	scripts/check-long

MINUTES ?= 10
soak:
	scripts/check-long --soak $(MINUTES)

demo:
	scripts/demo

bench:
	scripts/bench $(BENCH_ARGS)

profile:
	scripts/profile $(PROFILE_BASE)

.PHONY: all modules modules_install dkms-install dkms-uninstall man_install \
	tools tools_install examples deb coverage \
	headers_install udev_install clean check check-long soak lint demo bench \
	profile
