/*
 * unm_wire.h - the control protocol between libnetmap and netmapd.
 *
 * One AF_UNIX SOCK_SEQPACKET connection per port descriptor: the descriptor
 * an application gets from open("/dev/netmap") *is* that connection, so its
 * lifetime is the binding's lifetime across close(), fork(), exit and
 * SCM_RIGHTS passing, exactly as for a kernel file.  The data path never
 * touches it.
 *
 * Every message is a struct unm_msg_hdr followed by `len` bytes; replies
 * carry descriptors (region memfd, eventfds) with SCM_RIGHTS.  Requests are
 * answered in order, one reply each.  netmapd validates everything: a
 * malformed message closes that connection and nothing else.
 */
#ifndef UNM_WIRE_H
#define UNM_WIRE_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <net/netmap.h>

#define UNM_WIRE_MAGIC    0x57554e4du	/* "MNUW" */
/* Covers the message formats and the region layout (unm_layout.h): any
 * change to either bumps it, so a library never drives rings laid out by
 * a netmapd of another version (the connection fails with EPROTO). */
#define UNM_WIRE_VERSION  6u
#define UNM_WIRE_MAX      (64u * 1024u)	/* largest message, header included */
#define UNM_WIRE_MAXFDS   64u	/* NIC binds pass one socket per queue */

enum unm_msg_type {
	UNM_MSG_HELLO  = 1,	/* c->d: struct unm_msg_hello; reply the same */
	UNM_MSG_NMREQ  = 2,	/* c->d: struct unm_msg_nmreq + body + options */
	UNM_MSG_UNBIND = 3,	/* c->d: undo a REGISTER the client could not
				 * complete locally; no payload */
	UNM_MSG_CONFIG = 4,	/* c->d: struct nm_ifreq (NIOCCONFIG) */
	UNM_MSG_ADOPT  = 5,	/* c->d: no payload.  Reply: struct
				 * unm_msg_adopt, then (if bound) struct
				 * unm_bind_info as after a REGISTER, with
				 * its descriptors: for a process that got
				 * the descriptor by SCM_RIGHTS or exec and
				 * knows nothing of its binding */
};

struct unm_msg_adopt {
	uint64_t nr_flags;	/* the REGISTER's flags (NR_NO_TX_POLL...) */
	uint32_t bound;		/* 0: the descriptor binds nothing yet */
	uint32_t pad;
};

struct unm_msg_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t len;		/* payload bytes after this header, text
				 * included */
	int32_t  error;		/* replies: 0 or a positive errno */
	uint32_t text_len;	/* replies: the last text_len bytes of the
				 * payload are a NUL-terminated reason for
				 * `error`, for people (0: none) */
	uint32_t pad;
};

#define UNM_WIRE_TEXT_MAX 256u	/* longest reason, NUL included */

struct unm_msg_hello {
	uint32_t version;
	uint32_t pid;		/* informational */
	uint64_t instance;	/* daemon: random id of this daemon run */
};

/*
 * A netmap control request, flattened.  The library does the kernel's
 * "copyin" (follows the user's option pointers, enforces the size limits)
 * and the daemon does the semantics.  Payload after this struct:
 *   body_len bytes of request body,
 *   then nopts times: struct nmreq_option (nro_next ignored) followed by
 *   that option's body (optlen[i] bytes, listed in opt_body_len[]).
 * The reply has the same shape, with outputs and option statuses filled
 * in; a successful REGISTER is followed by struct unm_bind_info.
 */
#define UNM_WIRE_MAXOPTS 128u

struct unm_msg_nmreq {
	struct nmreq_header hdr;	/* nr_options, nr_body: zero on the wire */
	uint32_t body_len;
	uint32_t nopts;
	uint32_t opt_body_len[UNM_WIRE_MAXOPTS];
};

/* What kind of sync code drives the bound rings. */
enum unm_port_kind {
	UNM_KIND_PIPE     = 1,	/* the other side is the peer end's sync */
	UNM_KIND_NULL     = 2,	/* netmap's null adapter: syncs do nothing */
	UNM_KIND_NULLSINK = 3,	/* null:NAME: TX sink, RX endless source */
	UNM_KIND_HW       = 4,	/* the other side writes ctl line 1
				 * (switch, NIC engine) */
	UNM_KIND_XDP      = 5,	/* netmap:IFNAME over AF_XDP sockets; a
				 * struct unm_bind_nic follows (unm_nic.h) */
	UNM_KIND_PACKET   = 6,	/* netmap:IFNAME over AF_PACKET (emulated);
				 * a struct unm_bind_nic follows */
	UNM_KIND_MONITOR  = 7,	/* a monitor: its RX rings are filled by
				 * the monitored port's producers (ctl
				 * line 1), its TX ring fails with EIO */
	UNM_KIND_VETH     = 8,	/* netmap:IFNAME on one end of a veth pair:
				 * AF_XDP as UNM_KIND_XDP, or linked to the
				 * other end's rings (common/unm_veth.h) */
};

struct unm_bind_ring {
	uint64_t ring_ofs;	/* region offset of the struct netmap_ring */
	uint64_t peer_ofs;	/* pipes: the linked ring of the other end */
	uint32_t nslots;
	uint16_t ringid;	/* index within its direction */
	uint8_t  dir;		/* UNM_DIR_TX or UNM_DIR_RX */
	uint8_t  pad;
	int16_t  wake_fd;	/* index in the passed fds: we sleep on it */
	int16_t  kick_fd;	/* index in the passed fds: we write it to
				 * wake the other side; -1 none */
	uint32_t pad2;
};

struct unm_bind_info {
	uint32_t kind;		/* enum unm_port_kind */
	uint32_t nrings;	/* bound rings described below, TX first */
	uint64_t region_id;	/* unique across daemon runs: mapping cache key */
	uint64_t region_size;
	uint64_t buf_pool_ofs;
	uint32_t buf_size;
	uint32_t buf_total;
	uint64_t nifp_ofs;
	uint16_t mem_id;
	uint16_t flags;		/* UNM_BIND_F_* */
	uint16_t pad[2];
	struct unm_bind_ring ring[];
	/* fds passed: [0] region memfd, then eventfds */
};

/* bind_info flags */
#define UNM_BIND_F_VM	0x1u	/* a passthrough port seen from inside a
				 * guest: struct unm_bind_vm follows ring[]
				 * (kinds PIPE and HW only) */

/*
 * The guest side of a passthrough port (unm_vm.h): the region is a PCI
 * BAR of the ivshmem device, reached through a device descriptor at an
 * offset, and the rings kick the host by writing the device's doorbell
 * register instead of an eventfd.
 */
struct unm_bind_vm {
	uint64_t map_ofs;	/* the region starts at this offset of fds[0] */
	uint64_t bell_ofs;	/* the doorbell register, in fds[bell_fd] */
	int16_t  bell_fd;	/* index in the passed fds */
	uint16_t pad[3];
	uint32_t bell[];	/* per ring of ring[]: the value that kicks the
				 * other side ((peer << 16) | vector), or
				 * UINT32_MAX for none */
};

/*
 * unm_wire_send - send one message with optional descriptors.
 * @h		header; h->len is the length of `payload` alone
 * @text	NULL, or a reason appended to the payload (truncated to
 *		UNM_WIRE_TEXT_MAX; text_len and len are set accordingly)
 * Returns 0 or -errno.  Retries EINTR.
 */
int unm_wire_send(int sock, const struct unm_msg_hdr *h, const void *payload,
		  const char *text, const int *fds, unsigned nfds);

/*
 * unm_wire_recv - receive one message into buf (at least UNM_WIRE_MAX
 * bytes).  Received descriptors are close-on-exec (MSG_CMSG_CLOEXEC) and
 * stored in fds (up to *nfds; any excess is closed).  Validates magic,
 * version and length; a HELLO of another version passes, so that the two
 * sides can say what they speak.  Returns the total size, 0 at EOF, or -errno
 * (-EPROTO for a malformed message).
 */
ssize_t unm_wire_recv(int sock, void *buf, int *fds, unsigned *nfds);

/* The reason text of a message unm_wire_recv() accepted ("" if none). */
static inline const char *unm_wire_text(const void *buf)
{
	const struct unm_msg_hdr *h = (const struct unm_msg_hdr *)buf;

	if (h->text_len == 0)
		return "";
	return (const char *)(h + 1) + h->len - h->text_len;
}

/*
 * unm_socket_dir_ok - may a socket in `dir` be trusted by user `uid`?
 * The directory must be a real directory (not a symlink) owned by uid or
 * root, and nobody else may create or replace entries in it: not
 * writable by group or others, unless sticky (as /tmp).  Returns 0, or
 * -errno with a reason in msg.
 */
int unm_socket_dir_ok(const char *dir, uid_t uid, char *msg, size_t msglen);

/* Where netmapd listens: $UNETMAP_SOCKET, else $XDG_RUNTIME_DIR/unetmap/
 * netmapd.sock, else /run/unetmap/netmapd.sock for root, else
 * /run/user/<uid>/unetmap/netmapd.sock when the user's private runtime
 * directory exists, else /tmp/unetmap-<uid>/netmapd.sock.  Returns 0 or
 * -ENAMETOOLONG. */
int unm_socket_path(char *buf, size_t len);

#endif /* UNM_WIRE_H */
