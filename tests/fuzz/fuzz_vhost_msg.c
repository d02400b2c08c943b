/*
 * fuzz_vhost_msg - libFuzzer target: the vhost-user backend's message
 * handling (daemon/vm/vhost_user.c), fed through a real socket as QEMU
 * would, descriptors included, then its data path run over whatever
 * rings the messages set up.
 *
 * Built by `make fuzz` (build-fuzz/fuzz/fuzz_vhost_msg).  It includes the
 * component's sources, so it needs nothing but libFuzzer; by hand:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Icommon \
 *       -D_GNU_SOURCE tests/fuzz/fuzz_vhost_msg.c -o fuzz_vhost_msg
 *   ./fuzz_vhost_msg -max_total_time=60 tests/fuzz/corpus/vhost_msg
 *
 * Input: records of
 *   byte 0  ctl: bits 0-1 descriptors to attach (0-3); bits 2-3 their kind
 *           (64 KB memfd, eventfd, 1 MB memfd, pipe); bit 4 raw (the
 *           payload bytes go out as they are, header included); bit 5
 *           NEED_REPLY; bit 6 a wrong version
 *   byte 1  request number
 *   byte 2  payload length (the rest of the input if shorter)
 *   payload
 * Memfds hold the input itself, repeated, so rings and descriptors in
 * "guest memory" are fuzzed too.  Each input runs on a fresh connection;
 * the device lives across inputs, as in netmapd.
 *
 * The seed corpus/vhost_msg/qemu-start (QEMU's start-up sequence for a
 * virtio-net device, in records) comes from this file built without
 * libFuzzer:
 *   cc -DVU_FUZZ_SEED -Iinclude -Icommon -D_GNU_SOURCE \
 *       tests/fuzz/fuzz_vhost_msg.c -o seed
 *   ./seed tests/fuzz/corpus/vhost_msg/qemu-start
 */
#include "../../daemon/vm/vhost_user.c"
#include "../../daemon/vm/virtq.c"
#include "../../daemon/vm/vu_mem.c"
#include "../../daemon/vm/vu_net.c"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#ifdef VU_FUZZ_SEED
int main(int argc, char **argv);
#endif

static struct nmd_vu_dev *dev;
static const uint8_t *cur_data;
static size_t cur_size;

static void sink(void *arg, const struct nmd_vu_frame *f)
{
	static char buf[NMD_VU_MAX_FRAME];

	(void)arg;
	nmd_vu_frame_copy(f, 0, buf, f->len);
}

static int make_fd(unsigned kind, int *extra)
{
	int fd, p[2];
	size_t len, off;

	switch (kind) {
	case 1:
		return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	case 3:
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		*extra = p[1];
		return p[0];
	default:
		len = kind == 0 ? 65536 : 1 << 20;
		fd = memfd_create("fuzz", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)len) < 0)
			return fd;
		/* the guest's memory: the input, repeated over the first 64 KB */
		for (off = 0; cur_size && off < 65536; off += cur_size) {
			size_t n = cur_size < 65536 - off ? cur_size : 65536 - off;

			if (pwrite(fd, cur_data, n, (off_t)off) < 0)
				break;
		}
		return fd;
	}
}

static void drain(int fd)
{
	char buf[4096];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void pump(int peer)
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		nmd_vu_dispatch(dev);
		drain(peer);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char frame[9000];
	int sv[2], err;
	size_t pos = 0;

	if (!dev) {
		struct nmd_vu_config cfg = { .name = "fuzz" };

		dev = nmd_vu_create(&cfg, &err);
		if (!dev)
			abort();
	}
	cur_data = data;
	cur_size = size;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	if (nmd_vu_attach(dev, sv[0]) < 0) {
		close(sv[1]);
		return 0;
	}
	while (pos + 3 <= size) {
		uint8_t ctl = data[pos], req = data[pos + 1];
		size_t len = data[pos + 2];
		int fds[3], extra[3] = { -1, -1, -1 };
		unsigned nfds = ctl & 3, i;
		struct nmd_vu_hdr h;
		struct iovec iov[2];
		union {
			char buf[CMSG_SPACE(sizeof(int) * 3)];
			struct cmsghdr align;
		} cb;
		struct msghdr mh = { .msg_iov = iov };

		pos += 3;
		if (len > size - pos)
			len = size - pos;
		for (i = 0; i < nfds; i++)
			fds[i] = make_fd((ctl >> 2) & 3, &extra[i]);
		h.request = req;
		h.flags = (ctl & 0x40 ? 2u : UNM_VU_VERSION) | (ctl & 0x20 ? UNM_VU_FLAG_NEED_REPLY : 0);
		h.size = (uint32_t)len;
		if (ctl & 0x10) {
			iov[0].iov_base = (void *)(uintptr_t)(data + pos);
			iov[0].iov_len = len;
			mh.msg_iovlen = 1;
		} else {
			iov[0].iov_base = &h;
			iov[0].iov_len = sizeof(h);
			iov[1].iov_base = (void *)(uintptr_t)(data + pos);
			iov[1].iov_len = len;
			mh.msg_iovlen = 2;
		}
		if (nfds && fds[0] >= 0 && (nfds < 2 || fds[1] >= 0) && (nfds < 3 || fds[2] >= 0)) {
			struct cmsghdr *c;

			memset(&cb, 0, sizeof(cb));
			mh.msg_control = cb.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		if (mh.msg_iov[0].iov_len || mh.msg_iovlen > 1)
			sendmsg(sv[1], &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		for (i = 0; i < nfds; i++) {
			if (fds[i] >= 0)
				close(fds[i]);
			if (extra[i] >= 0)
				close(extra[i]);
		}
		pos += len;
		pump(sv[1]);
		/* the data path over whatever the messages set up */
		nmd_vu_tx_burst(dev, sink, NULL, NMD_VU_BURST);
		nmd_vu_rx_deliver(dev, frame, 60);
		nmd_vu_rx_deliver(dev, frame, sizeof(frame));
		nmd_vu_rx_flush(dev);
		nmd_vu_kick_enable(dev, NMD_VU_TXQ);
		nmd_vu_kick_enable(dev, NMD_VU_RXQ);
		nmd_vu_kick_drain(dev);
		nmd_vu_kick_disable(dev, NMD_VU_TXQ);
	}
	close(sv[1]);
	pump(-1);
	return 0;
}

#ifdef VU_FUZZ_SEED
static uint8_t seed[1024];
static size_t seed_len;

static void rec(uint8_t ctl, uint8_t req, const void *pl, uint8_t len)
{
	seed[seed_len++] = ctl;
	seed[seed_len++] = req;
	seed[seed_len++] = len;
	memcpy(seed + seed_len, pl, len);
	seed_len += len;
}

static void rec_u64(uint8_t ctl, uint8_t req, uint64_t v)
{
	rec(ctl, req, &v, 8);
}

static void rec_state(uint8_t req, uint32_t index, uint32_t num)
{
	struct nmd_vu_state st = { index, num };

	rec(0, req, &st, sizeof(st));
}

int main(int argc, char **argv)
{
	const uint64_t ua = 0x7f0000000000ull;
	struct {
		uint32_t n, pad;
		struct nmd_vu_region_desc r;
	} mt = { 1, 0, { 0x100000, 0x10000, ua, 0 } };
	unsigned q;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	rec(0, UNM_VU_GET_FEATURES, NULL, 0);
	rec(0, UNM_VU_GET_PROTOCOL_FEATURES, NULL, 0);
	rec_u64(0, UNM_VU_SET_PROTOCOL_FEATURES, VU_PF_OFFER);
	rec(0x20, UNM_VU_SET_OWNER, NULL, 0);
	rec_u64(0x20, UNM_VU_SET_FEATURES, NMD_VU_FEATURES);
	rec(0x20 | 1 | 2 << 2, UNM_VU_SET_MEM_TABLE, &mt, sizeof(mt));
	for (q = 0; q < 2; q++) {
		struct nmd_vu_addr a = {
			.index = q, .desc = ua + q * 0x400, .avail = ua + q * 0x400 + 0x100,
			.used = ua + q * 0x400 + 0x200,
		};

		rec_state(UNM_VU_SET_VRING_NUM, q, 16);
		rec_state(UNM_VU_SET_VRING_BASE, q, 0);
		rec(0, UNM_VU_SET_VRING_ADDR, &a, sizeof(a));
		rec_u64(1 | 1 << 2, UNM_VU_SET_VRING_KICK, q);
		rec_u64(1 | 1 << 2, UNM_VU_SET_VRING_CALL, q);
		rec_state(UNM_VU_SET_VRING_ENABLE, q, 1);
	}
	rec(0, UNM_VU_GET_STATUS, NULL, 0);
	rec_state(UNM_VU_GET_VRING_BASE, 1, 0);
	f = fopen(argv[1], "w");
	if (!f || fwrite(seed, 1, seed_len, f) != seed_len || fclose(f))
		return 1;
	return 0;
}
#endif
