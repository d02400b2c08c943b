/*
 * 41_vale_module_util.h - helpers for the VALE module tests
 * (41_vale_module_*.c), on top of 40_vale_util.h: staging module files
 * where netmapd trusts them, loading and restoring modules, NIOCCONFIG,
 * IPv4 frames, and counting what each port received.
 *
 * Staging: netmapd loads only files nobody untrusted could have written
 * (docs/vale-modules.md).  The build tree may belong to anyone, so each
 * test copies the modules it needs into a private directory of its own
 * (mkdtemp in /tmp, mode 0700) and loads them from there; the directory
 * goes away when the test exits.
 */
#ifndef VM_UTIL_H
#define VM_UTIL_H

#include <stdbool.h>
#include <sys/stat.h>

#include "40_vale_util.h"
#include "unm_reason.h"		/* netmapd's reason for a refusal */

static char vm_dir[64];
static char vm_staged[16][128];
static unsigned vm_nstaged;

static void vm_unstage(void)
{
	unsigned i;

	for (i = 0; i < vm_nstaged; i++)
		unlink(vm_staged[i]);
	if (vm_dir[0])
		rmdir(vm_dir);
}

/* Copy module `name` (examples: "learn"; test modules: "t/wild") into
 * the private directory; its path there.  Exits 77 if it was not built. */
static inline const char *vm_stage(const char *name)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char src[512], buf[65536];
	char *dst;
	int in, out;
	ssize_t n;

	if (!vm_dir[0]) {
		snprintf(vm_dir, sizeof(vm_dir), "/tmp/unetmap-vm.XXXXXX");
		CHECK(mkdtemp(vm_dir), "mkdtemp: %s", strerror(errno));
		atexit(vm_unstage);
	}
	if (strncmp(name, "t/", 2) == 0)
		snprintf(src, sizeof(src), "%s/tests/vale-modules/%s.so", build, name + 2);
	else
		snprintf(src, sizeof(src), "%s/vale-modules/%s.so", build, name);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		printf("%s not built (%s)\n", src, strerror(errno));
		exit(77);
	}
	CHECK(vm_nstaged < 16, "too many staged modules");
	dst = vm_staged[vm_nstaged++];
	snprintf(dst, sizeof(vm_staged[0]), "%s/%s.so", vm_dir,
		 strncmp(name, "t/", 2) == 0 ? name + 2 : name);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(out >= 0, "create %s: %s", dst, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		CHECK(write(out, buf, (size_t)n) == n, "write %s: %s", dst, strerror(errno));
	CHECK(n == 0, "read %s: %s", src, strerror(errno));
	close(in);
	CHECK(fchmod(out, 0644) == 0 && close(out) == 0, "%s: %s", dst, strerror(errno));
	return dst;
}

/* A file of the given contents in the private directory (removed at
 * exit, like the staged modules); its path. */
static inline const char *vm_stage_text(const char *name, const char *text)
{
	char *dst;
	FILE *fp;

	vm_stage("t/badabi");	/* makes the directory */
	CHECK(vm_nstaged < 16, "too many staged files");
	dst = vm_staged[vm_nstaged++];
	snprintf(dst, sizeof(vm_staged[0]), "%s/%s", vm_dir, name);
	fp = fopen(dst, "w");
	CHECK(fp && fputs(text, fp) >= 0 && fclose(fp) == 0, "%s: %s", dst, strerror(errno));
	return dst;
}

/* UNM_REQ_VALE_MODULE on switch sw.  Returns 0 or an errno; *out (if
 * not NULL) gets the reply on success. */
static inline int vm_request(const char *sw, uint32_t cmd, const char *path, const char *args,
			     struct unm_vale_module_req *out)
{
	static struct unm_vale_module_req mr;
	struct nmreq_header hdr;
	int fd = open("/dev/netmap", O_RDWR), e = 0;

	CHECK(fd >= 0, "open /dev/netmap: %s", strerror(errno));
	memset(&mr, 0, sizeof(mr));
	mr.cmd = cmd;
	if (path)
		snprintf(mr.path, sizeof(mr.path), "%s", path);
	if (args)
		snprintf(mr.args, sizeof(mr.args), "%s", args);
	nmreq_header_init(&hdr, UNM_REQ_VALE_MODULE, &mr);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", sw);
	if (ioctl(fd, NIOCCTRL, &hdr) < 0)
		e = errno;
	else if (out)
		*out = mr;
	close(fd);
	return e;
}

static inline void vm_load(const char *sw, const char *path, const char *args)
{
	int e = vm_request(sw, UNM_VALE_MOD_LOAD, path, args, NULL);

	CHECK(e == 0, "loading %s into %s: %s: %s", path, sw, strerror(e), unm_reason());
}

static inline void vm_unload(const char *sw)
{
	int e = vm_request(sw, UNM_VALE_MOD_UNLOAD, NULL, NULL, NULL);

	CHECK(e == 0, "restoring the learning bridge in %s: %s: %s", sw, strerror(e),
	      unm_reason());
}

static inline struct unm_vale_module_req vm_info(const char *sw)
{
	struct unm_vale_module_req mr;
	int e = vm_request(sw, UNM_VALE_MOD_INFO, NULL, NULL, &mr);

	CHECK(e == 0, "module of %s: %s: %s", sw, strerror(e), unm_reason());
	return mr;
}

/* NIOCCONFIG with `len` bytes of data for switch (or port) `name`, on a
 * descriptor of its own.  0 or an errno. */
static inline int vm_config(const char *name, const void *data, size_t len)
{
	struct nm_ifreq req;
	int fd = open("/dev/netmap", O_RDWR), e = 0;

	CHECK(fd >= 0, "open /dev/netmap: %s", strerror(errno));
	CHECK(len <= sizeof(req.data), "config data too long");
	memset(&req, 0, sizeof(req));
	snprintf(req.nifr_name, sizeof(req.nifr_name), "%s", name);
	memcpy(req.data, data, len);
	if (ioctl(fd, NIOCCONFIG, &req) < 0)
		e = errno;
	close(fd);
	return e;
}

static inline int vm_config_text(const char *name, const char *text)
{
	return vm_config(name, text, strlen(text));
}

/* Close a port and wait until netmapd has taken it out of its switch
 * (the close reaches netmapd asynchronously). */
static inline void vm_close(struct nmport_d *d, const char *name)
{
	uint64_t end = vt_now_ms() + 5000;

	nmport_close(d);
	while (vt_port_idx(name) != NM_BDG_NOPORT) {
		CHECK(vt_now_ms() < end, "%s is still in its switch 5 s after its close", name);
		usleep(1000);
	}
}

static inline uint32_t vm_ip(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (uint32_t)(a << 24 | b << 16 | c << 8 | d);
}

/* An IPv4/UDP frame of len bytes (>= 60) to address dst, with an 802.1Q
 * tag when vlan; the payload carries tag and seq as vt_frame's does. */
static inline void vm_ipv4(uint8_t *f, size_t len, const uint8_t dmac[6], const uint8_t smac[6],
			   uint32_t dst, bool vlan, uint32_t tag, uint32_t seq)
{
	size_t l2 = vlan ? 18 : 14, i;
	uint8_t *ip = f + l2;

	memset(f, 0, len);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	if (vlan) {
		f[12] = 0x81, f[13] = 0x00, f[14] = 0x00, f[15] = 0x07;
		f[16] = 0x08, f[17] = 0x00;
	} else {
		f[12] = 0x08, f[13] = 0x00;
	}
	ip[0] = 0x45;
	ip[2] = (uint8_t)((len - l2) >> 8);
	ip[3] = (uint8_t)(len - l2);
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 192, ip[13] = 0, ip[14] = 2, ip[15] = 1;
	ip[16] = (uint8_t)(dst >> 24);
	ip[17] = (uint8_t)(dst >> 16);
	ip[18] = (uint8_t)(dst >> 8);
	ip[19] = (uint8_t)dst;
	memcpy(ip + 28, &tag, 4);
	memcpy(ip + 32, &seq, 4);
	for (i = l2 + 36; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seq * 13 + tag);
}

/* Frames waiting in every RX ring of each of n ports: counts in got[]
 * (consumed).  Call after the senders' vt_flush(): everything sent is
 * then already delivered. */
static inline void vm_count(struct nmport_d **p, unsigned n, unsigned *got)
{
	unsigned i;

	for (i = 0; i < n; i++)
		got[i] = vt_drain(p[i]);
}

#endif /* VM_UTIL_H */
