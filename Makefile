# unetmap — top-level build.  Plain GNU make; no configure step.
#
#   make                 libnetmap (.a, .so), netmapd, tools, VALE module
#                        examples (build/vale-modules/*.so)
#   make deps            install the Debian packages it needs (through sudo
#                        when not root; scripts/install-deps.sh)
#   make test            build everything and run the whole suite
#   make check-asan      the same suite built with ASan + UBSan (in build-asan/)
#   make check           both passes, one summary line (what CI runs)
#   make fuzz            the libFuzzer targets, FUZZ_SECS each (tests/fuzz/)
#   make bench           benchmarks, results in bench/RESULTS.md,
#                        bench/vale-results.md, bench/vale-modules-results.md,
#                        bench/xdp-results.md, bench/nfv-results.md,
#                        bench/monitor-results.md, bench/vm-results.md and
#                        bench/vhost-vale-results.md
#   make demo            live demo: packets over a pipe between two processes
#   make demo-vm         the same through a filter in a QEMU guest (passthrough)
#   make guest           static netmapd, tools and test programs for VM
#                        guests, in build-guest/ (docs/vm-guests.md)
#   make install PREFIX=/usr/local [DESTDIR=]

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= gcc
SAN     ?=
STATIC  ?=

ABI_MAJOR := 1
VERSION   := 0.1.0

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CSTD    := -std=gnu11
OPT     ?= -O2 -g
ifeq ($(SAN),1)
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
endif
# FUZZ=1 (make fuzz): clang, libFuzzer coverage plus ASan and UBSan
ifeq ($(FUZZ),1)
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	   -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
endif
CPPFLAGS_ALL := -Iinclude -Icommon -Ilib -D_GNU_SOURCE \
	-DUNM_NETMAPD_DEFAULT='"$(PREFIX)/sbin/netmapd"'
CFLAGS_ALL   := $(CSTD) $(OPT) $(WARN) -fPIC -pthread $(CFLAGS)
LDFLAGS_ALL  := -pthread $(LDSAN) $(LDFLAGS)
LDLIBS_ALL   := -ldl $(LDLIBS)
# netmapd (and the raw AF_XDP benchmark) attach XDP programs with libxdp;
# libnetmap itself needs neither library
XDP_LIBS     := $(shell pkg-config --libs libxdp libbpf 2>/dev/null || echo -lxdp -lbpf)
# STATIC=1 (make guest): VM guests carry no shared libraries
ifeq ($(STATIC),1)
LDFLAGS_ALL  += -static
XDP_LIBS     := $(shell pkg-config --static --libs libxdp libbpf 2>/dev/null || \
		  echo -lxdp -lbpf -lelf -lz)
endif

COMMON_SRC := $(sort $(wildcard common/*.c))
LIB_SRC    := $(sort $(wildcard lib/*.c))
DAEMON_SRC := $(sort $(wildcard daemon/*.c daemon/*/*.c))
# the vhost-user backend (daemon/vm) is also an archive, for its tests and
# benchmark, which drive it without netmapd
VHOST_SRC  := $(sort $(wildcard daemon/vm/vhost_user.c daemon/vm/virtq.c daemon/vm/vu_*.c))
TOOL_DIRS  := $(sort $(patsubst tools/%/,%,$(dir $(wildcard tools/*/*.c))))
UNIT_SRC   := $(sort $(wildcard tests/unit/*.c))
INTEG_SRC  := $(sort $(wildcard tests/integration/*.c))
BENCH_SRC  := $(sort $(wildcard bench/src/*.c))
VMOD_SRC   := $(sort $(wildcard examples/vale-modules/*.c))
VMODT_SRC  := $(sort $(wildcard tests/vale-modules/*.c))
VMTEST_SRC := $(sort $(wildcard tests/vm/*.c))
FUZZ_SRC   := $(sort $(filter-out tests/fuzz/seeds.c,$(wildcard tests/fuzz/*.c)))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_OBJ    := $(call obj,$(LIB_SRC) $(COMMON_SRC))
DAEMON_OBJ := $(call obj,$(DAEMON_SRC) $(COMMON_SRC))
LIBA       := $(BUILD)/libnetmap.a
VHOSTLIB   := $(BUILD)/libnmdvhost.a
LIBSO      := $(BUILD)/libnetmap.so.$(ABI_MAJOR)
NETMAPD    := $(BUILD)/netmapd
TOOLS      := $(addprefix $(BUILD)/,$(TOOL_DIRS))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
INTEG_BIN  := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_SRC))
BENCH_BIN  := $(patsubst bench/src/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
VMTEST_BIN := $(patsubst tests/vm/%.c,$(BUILD)/tests/vm/%,$(VMTEST_SRC))
# VALE switch modules (docs/vale-modules.md): the examples, and the
# misbehaving ones the tests load
VMODS      := $(patsubst examples/vale-modules/%.c,$(BUILD)/vale-modules/%.so,$(VMOD_SRC))
VMODT      := $(patsubst tests/vale-modules/%.c,$(BUILD)/tests/vale-modules/%.so,$(VMODT_SRC))
# what the VM test programs link: netmapd's VM modules and its log
VM_OBJ     := $(call obj,$(wildcard daemon/vm/ivshmem_*.c) $(VHOST_SRC) daemon/log.c)

# Objects built through chained rules are intermediate to make, which
# would delete them after the run (and print that after the test summary).
.SECONDARY:

.PHONY: all test check check-asan bench demo install clean tests guest guest-bins fuzz fuzz-bins \
	fuzz-seeds deps demo-vm
all: $(LIBA) $(LIBSO) $(NETMAPD) $(TOOLS) $(BENCH_BIN) $(VMODS)

# netmapd's port kinds live in a folder each (daemon/vale/, daemon/nic/,
# ...) and include the core's nmd.h
$(BUILD)/obj/daemon/%.o: CPPFLAGS_ALL += -Idaemon

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS_ALL) -fvisibility=hidden -MMD -MP -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(VHOSTLIB): $(call obj,$(VHOST_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBSO): $(LIB_OBJ) lib/libnetmap.map
	$(CC) -shared -Wl,-soname,libnetmap.so.$(ABI_MAJOR) -Wl,--version-script=lib/libnetmap.map \
		$(LDFLAGS_ALL) -o $@ $(LIB_OBJ) $(LDLIBS_ALL)
	ln -sf libnetmap.so.$(ABI_MAJOR) $(BUILD)/libnetmap.so

$(NETMAPD): $(DAEMON_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) $(XDP_LIBS)

# Tools link the static library: they run from the build tree or any PREFIX
# without an rpath, and the libc calls they make on port descriptors
# (open/ioctl/mmap/poll/close) resolve to libnetmap's.
# TOOL_LIBS: what one tool needs beyond libnetmap (set per target below).
define tool_rule
$(BUILD)/$(1): $(call obj,$(wildcard tools/$(1)/*.c)) $(LIBA)
	$(CC) $(LDFLAGS_ALL) -o $$@ $(call obj,$(wildcard tools/$(1)/*.c)) $(LIBA) $(LDLIBS_ALL) $$(TOOL_LIBS) -lm
endef
$(foreach t,$(TOOL_DIRS),$(eval $(call tool_rule,$(t))))
# nm-dump writes pcap files and compiles BPF filters with libpcap
$(BUILD)/nm-dump: TOOL_LIBS = $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(LIBA) $(LDLIBS_ALL) -lm

$(BUILD)/tests/integration/%: $(BUILD)/obj/tests/integration/%.o $(VHOSTLIB) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(VHOSTLIB) $(LIBA) $(LDLIBS_ALL) -lm

$(BUILD)/bench/%: $(BUILD)/obj/bench/src/%.o $(VHOSTLIB) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(VHOSTLIB) $(LIBA) $(LDLIBS_ALL) $(BENCH_LIBS) -lm
$(BUILD)/bench/xsk_bench: BENCH_LIBS = $(XDP_LIBS)

# helpers of the VM tests (tests/integration/7x_*): run by those tests,
# not by the runner
$(BUILD)/obj/tests/vm/%.o: CPPFLAGS_ALL += -Idaemon
$(BUILD)/tests/vm/%: $(BUILD)/obj/tests/vm/%.o $(VM_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# A module sees nothing of unetmap but <unetmap/vale_module.h>.
$(BUILD)/vale-modules/%.so: $(BUILD)/obj/examples/vale-modules/%.o
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS_ALL) -o $@ $<
$(BUILD)/tests/vale-modules/%.so: $(BUILD)/obj/tests/vale-modules/%.o
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS_ALL) -o $@ $<

# guest programs that are netmap applications (tests/vm/app_*.c) link
# libnetmap instead (the shorter stem makes make prefer this rule)
$(BUILD)/tests/vm/app_%: $(BUILD)/obj/tests/vm/app_%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

tests: all $(UNIT_BIN) $(INTEG_BIN) $(VMTEST_BIN) $(VMODT)

# Static builds for VM guests, which have no shared libraries
guest:
	$(MAKE) BUILD=build-guest STATIC=1 SAN= FUZZ= guest-bins
# nm-dump is left out: Debian's static libpcap needs libdbus's
guest-bins: $(LIBA) $(NETMAPD) $(filter-out $(BUILD)/nm-dump,$(TOOLS)) $(INTEG_BIN) $(VMTEST_BIN)

test: tests
	BUILD=$(BUILD) CC=$(CC) tests/run.sh

check-asan:
	$(MAKE) BUILD=build-asan SAN=1 test

# What CI runs (the README's test command): the suite on the plain build,
# then again on an ASan+UBSan build (netmapd included), one summary line
check: tests
	$(MAKE) BUILD=build-asan SAN=1 tests
	BUILDS="$(BUILD) build-asan" CC=$(CC) tests/run.sh

# libFuzzer targets (tests/fuzz/): the control protocol fed to netmapd's
# request handling in-process, the port-name parsers, the ring validation.
# `make fuzz` runs each for FUZZ_SECS seconds (default 60) from the seed
# corpus in tests/fuzz/corpus; longer runs: see tests/fuzz/README.md.
FUZZ_SECS ?= 60
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
$(BUILD)/obj/tests/fuzz/%.o: CPPFLAGS_ALL += -Idaemon
$(BUILD)/fuzz/fuzz_ctl: $(BUILD)/obj/tests/fuzz/fuzz_ctl.o \
		$(filter-out $(BUILD)/obj/daemon/main.o,$(DAEMON_OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ALL) $(XDP_LIBS)
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(LIBA) $(LDLIBS_ALL)
fuzz-bins: $(FUZZ_BIN)
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang FUZZ=1 fuzz-bins
	FUZZ_SECS=$(FUZZ_SECS) tests/fuzz/run.sh build-fuzz
# regenerate the seed corpus from the current structures
fuzz-seeds: $(BUILD)/obj/tests/fuzz/seeds.o
	$(CC) $(LDFLAGS_ALL) -o $(BUILD)/fuzz-seeds $<
	$(BUILD)/fuzz-seeds tests/fuzz/corpus

bench: all
	BUILD=$(BUILD) bench/run.sh
	BUILD=$(BUILD) bench/vale.sh --out bench/vale-results.md
	BUILD=$(BUILD) bench/vale-modules.sh --out bench/vale-modules-results.md
	BUILD=$(BUILD) bench/xdp.sh --out bench/xdp-results.md
	BUILD=$(BUILD) bench/nfv.sh --out bench/nfv-results.md
	BUILD=$(BUILD) bench/monitor.sh --out bench/monitor-results.md
	BUILD=$(BUILD) bench/vm.sh --out bench/vm-results.md
	BUILD=$(BUILD) bench/vhost-vale.sh --out bench/vhost-vale-results.md

demo: all
	scripts/demo.sh $(BUILD)

deps:
	scripts/install-deps.sh
# the FOSDEM demo across a VM boundary (docs/passthrough.md)
demo-vm: all
	scripts/demo-vm.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/include/net $(DESTDIR)$(PREFIX)/include/unetmap \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/unetmap/vale-modules \
		$(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man3 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 644 include/net/netmap.h include/net/netmap_user.h include/net/netmap_legacy.h \
		include/net/netmap_virt.h $(DESTDIR)$(PREFIX)/include/net/
	install -m 644 include/libnetmap.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/unetmap/vale_module.h $(DESTDIR)$(PREFIX)/include/unetmap/
	for m in $(VMODS); do install -m 644 $$m $(DESTDIR)$(PREFIX)/lib/unetmap/vale-modules/; done
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libnetmap.so.$(ABI_MAJOR) $(DESTDIR)$(PREFIX)/lib/libnetmap.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' lib/libnetmap.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/libnetmap.pc
	install -m 755 $(NETMAPD) $(DESTDIR)$(PREFIX)/sbin/
	for t in $(TOOL_DIRS); do install -m 755 $(BUILD)/$$t $(DESTDIR)$(PREFIX)/bin/; done
	for m in docs/*.3; do [ -e "$$m" ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man3/; done; true
	for m in docs/*.8 tools/*/*.8; do [ -e "$$m" ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done; true

clean:
	rm -rf build build-asan build-guest build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
