/*
 * fuzz_ctl - libFuzzer target: netmapd's control protocol, in-process.
 *
 * Each input is a conversation: chunks of [mode u8][length u16 LE][bytes],
 * each chunk one SEQPACKET message sent to netmapd's request handling
 * (nmd_server_serve_fd: framing, decoding, every request type, replies
 * with descriptors), after which the client is dropped like one that hung
 * up and netmapd's VALE state is reset.  mode bit 0 makes the header's
 * magic, version and length right (so mutations reach the requests
 * instead of dying at the framing), bit 1 also the NMREQ body length.
 * Interfaces are disabled: the fuzzer must never touch a real one.
 * Anything netmapd does wrong shows as an ASan/UBSan report or a crash.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nmd.h"
#include "unm_nmreq.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct nmd_vale_opts vo = { .threads = 1 };
	struct nmd_nic_opts no = { .disabled = true };

	(void)argc;
	(void)argv;
	nmd_log_level = NMD_LOG_ERR - 1;	/* silent */
	nmd_regions_init();
	nmd_vale_configure(&vo);
	nmd_nic_configure(&no);
	return 0;
}

/* Read every reply and close the descriptors they carry. */
static void drain(int fd)
{
	static char buf[UNM_WIRE_MAX];
	union {
		char b[CMSG_SPACE(sizeof(int) * UNM_WIRE_MAXFDS)];
		struct cmsghdr align;
	} cm;

	for (;;) {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
				    .msg_controllen = sizeof(cm.b) };
		struct cmsghdr *c;

		if (recvmsg(fd, &m, MSG_DONTWAIT) <= 0)
			return;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int)), k, x;

			for (k = 0; c->cmsg_type == SCM_RIGHTS && k < n; k++) {
				memcpy(&x, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
				close(x);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char msg[UNM_WIRE_MAX];
	int sv[2];
	size_t off = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	while (off + 3 <= size) {
		uint8_t mode = data[off];
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;

		off += 3;
		if (len > size - off)
			len = size - off;
		if (len > sizeof(msg))
			len = sizeof(msg);
		memcpy(msg, data + off, len);
		off += len;
		if ((mode & 1) && len >= sizeof(struct unm_msg_hdr)) {
			struct unm_msg_hdr *h = (struct unm_msg_hdr *)(void *)msg;

			h->magic = UNM_WIRE_MAGIC;
			h->version = UNM_WIRE_VERSION;
			h->len = (uint32_t)(len - sizeof(*h));
			if (h->text_len > h->len)
				h->text_len = 0;
			if ((mode & 2) && h->type == UNM_MSG_NMREQ &&
			    len >= sizeof(*h) + sizeof(struct unm_msg_nmreq)) {
				struct unm_msg_nmreq *m = (struct unm_msg_nmreq *)(void *)(h + 1);
				int bsz = unm_nmreq_body_size(m->hdr.nr_reqtype);

				m->body_len = bsz > 0 ? (uint32_t)bsz : 0;
				if (m->nopts > UNM_WIRE_MAXOPTS)
					m->nopts %= UNM_WIRE_MAXOPTS + 1;
			}
		}
		if (send(sv[1], msg, len, MSG_DONTWAIT) < 0)
			break;
	}
	shutdown(sv[1], SHUT_WR);
	nmd_server_serve_fd(sv[0], getpid());	/* closes sv[0] */
	drain(sv[1]);
	close(sv[1]);
	/* persistent ports and switches live on otherwise */
	nmd_vale_fini();
	return 0;
}
