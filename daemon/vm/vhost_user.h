/*
 * vhost_user.h - a vhost-user virtio-net backend device: the component
 * netmapd uses to make a QEMU guest's virtio-net NIC a switch port.
 *
 * One device serves one socket and one virtio-net queue pair.  It speaks
 * the vhost-user protocol with QEMU (as server: listening, one QEMU at a
 * time; or as client: connecting, reconnecting with back-off), maps the
 * guest's memory, and offers a forwarding engine a data path on the two
 * virtqueues: frames the guest transmitted (nmd_vu_tx_*) and frames for
 * the guest to receive (nmd_vu_rx_*).  Queue names follow the guest:
 * "tx" is what the guest sends, "rx" what it receives.
 *
 * Thread model
 * ------------
 * The protocol side (create, destroy, dispatch, info, attach) runs on one
 * thread, the owner's main loop.  The data path (every nmd_vu_tx_*,
 * nmd_vu_rx_*, nmd_vu_kick_*) runs on forwarding threads, with calls on
 * one queue serialised by the owner: one thread at a time per queue (the
 * two queues may be served by different threads).  A data-path "session"
 * is a sequence of calls that ends with nmd_vu_tx_done() (tx) or
 * nmd_vu_rx_flush() (rx); nmd_vu_tx_burst() is a whole session.
 *
 * Handshake.  Some protocol messages change what the data path uses:
 * guest memory (SET_MEM_TABLE unmaps the old table), ring geometry,
 * negotiated features, eventfds, ring start/stop/enable, disconnection.
 * Before such a change, while a queue is running, the device calls the
 * owner's pause hook; pause must return only when no forwarding thread is
 * inside a session on this device and none will enter one until resume,
 * with the data path's last access to the device happening-before pause
 * returns (a mutex, or a grace period after which the threads passed a
 * full barrier, both qualify).  The device then makes the change and
 * calls resume.  Without running queues the data path touches nothing but
 * a queue's state word (an atomic, acquire-loaded at the start of every
 * session), so no pause is needed, and a queue that starts is published
 * with a release store.  Hooks may be NULL for an owner that runs the
 * data path on the protocol thread itself.  After every change the
 * device calls the changed hook (protocol thread) so the owner can look
 * at nmd_vu_info().
 *
 * Sleeping.  nmd_vu_wait_fd() is an epoll descriptor, stable for the
 * device's lifetime, that becomes readable when the guest kicks a queue;
 * a forwarding thread adds it to its own epoll set once.  Before sleeping
 * it calls nmd_vu_kick_enable() on the queues it wants to be woken by
 * (the guest then kicks after adding buffers: event index or flags, as
 * negotiated); a true return means work arrived meanwhile: do not sleep.
 * After waking, nmd_vu_kick_drain() consumes the kicks and
 * nmd_vu_kick_disable() lets the guest add buffers without kicking while
 * the thread polls.  This is the Dekker scheme of unetmap's rings
 * (ARCHITECTURE.md section 3), with the guest as the other party.  A
 * queue that QEMU set up without a kick descriptor (polling mode) makes
 * nmd_vu_kick_enable() return true: its owner must poll.  Interrupts to
 * the guest (the call eventfd) are written by the flushes, only when the
 * guest asked for them.
 *
 * Signals: the owner must ignore SIGPIPE (netmapd does): QEMU may hand
 * over a pipe instead of an eventfd, and close its reading end.
 *
 * Trust: QEMU's messages and everything in guest memory are untrusted.  A
 * malformed or impossible message closes the connection (logged); a guest
 * that breaks the virtqueue rules marks the device broken: its queues stop,
 * the error eventfd is written, GET_STATUS reports DEVICE_NEEDS_RESET, the
 * event is counted and logged (rate-limited), and the device works again
 * after the guest resets it (the rings are stopped and restarted) or on a
 * new connection.  See docs/vhost-user.md for the protocol coverage.
 */
#ifndef NMD_VHOST_USER_H
#define NMD_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vu_mem.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { NMD_VU_RXQ = 0, NMD_VU_TXQ = 1, NMD_VU_NQUEUES = 2 };

/* log levels, those of netmapd's log */
enum { NMD_VU_LOG_ERR, NMD_VU_LOG_WARN, NMD_VU_LOG_INFO, NMD_VU_LOG_DEBUG };

#define NMD_VU_MAX_FRAME	65536	/* longest frame either way */
#define NMD_VU_BURST		256	/* most frames one tx peek returns */

struct nmd_vu_dev;

struct nmd_vu_ops {
	void (*pause)(void *arg);
	void (*resume)(void *arg);
	void (*changed)(void *arg);
	/* one line, no newline; any thread */
	void (*log)(void *arg, int level, const char *msg);
};

struct nmd_vu_config {
	const char *name;	/* for log lines ("vale0:vm1") */
	const char *path;	/* socket; NULL: connections come from
				 * nmd_vu_attach() only */
	bool client;		/* connect to path instead of listening */
	uint64_t features;	/* virtio features to offer, within
				 * NMD_VU_FEATURES; 0: NMD_VU_FEATURES */
	unsigned backoff_min_ms;	/* client reconnect delay: 0 = 100 */
	unsigned backoff_max_ms;	/* doubled up to this: 0 = 5000 */
	const struct nmd_vu_ops *ops;	/* NULL: no hooks, no log */
	void *arg;
	/* the owner's current log level (netmapd: &nmd_log_level): lines
	 * above it are neither formatted nor counted by the rate limit
	 * (which spares debug lines: they were asked for); NULL:
	 * NMD_VU_LOG_INFO */
	const int *log_level;
};

/* What we can offer: VERSION_1, MRG_RXBUF, EVENT_IDX, INDIRECT_DESC,
 * ANY_LAYOUT, MTU, PROTOCOL_FEATURES.  No offloads. */
#define NMD_VU_FEATURES ((1ull << 32) | (1ull << 15) | (1ull << 29) | (1ull << 28) | \
			 (1ull << 27) | (1ull << 3) | (1ull << 30))

/*
 * nmd_vu_create - a device serving cfg->path.
 * Server mode creates the socket (a stale socket file nobody listens on
 * is replaced; a live one is EADDRINUSE); client mode starts connecting
 * at once and keeps retrying.  Returns the device, or NULL with *err set:
 * -EINVAL (path too long, features outside NMD_VU_FEATURES), -EADDRINUSE,
 * -ENOMEM, or the -errno of socket/bind/listen/epoll/timerfd.
 */
struct nmd_vu_dev *nmd_vu_create(const struct nmd_vu_config *cfg, int *err);

/* Closes everything, removes the server socket.  The owner must have
 * stopped using the data path (no hooks are called). */
void nmd_vu_destroy(struct nmd_vu_dev *d);

/* Protocol side: poll nmd_vu_fd() for POLLIN, then call nmd_vu_dispatch(),
 * which handles what is ready without blocking.  Returns 0, or -errno when
 * the device can no longer serve (its socket is gone). */
int nmd_vu_fd(const struct nmd_vu_dev *d);
int nmd_vu_dispatch(struct nmd_vu_dev *d);

/* Serve an already connected socket (the device takes it; any current
 * connection is dropped first).  0 or -errno. */
int nmd_vu_attach(struct nmd_vu_dev *d, int fd);

struct nmd_vu_info {
	bool connected;
	bool running[NMD_VU_NQUEUES];	/* started: the data path works */
	bool enabled[NMD_VU_NQUEUES];
	bool polling[NMD_VU_NQUEUES];	/* started without a kick fd */
	bool broken;
	const char *broken_why;		/* static string, NULL if not broken */
	uint64_t features;		/* negotiated virtio features */
	uint64_t protocol_features;
	uint8_t status;			/* SET_STATUS value */
	uint16_t mtu;			/* NET_SET_MTU, 0 if none */
	uint32_t hdr_len;		/* virtio-net header: 10 or 12 */
	uint32_t mem_regions;
	uint64_t connections;		/* connections served so far */
	uint64_t bad_msgs;		/* connections closed for a bad message */
	uint64_t breaks;		/* times a guest broke the device */
	uint64_t pkts[NMD_VU_NQUEUES], bytes[NMD_VU_NQUEUES];
	uint64_t drops[NMD_VU_NQUEUES];	/* rx: no room; tx: ring disabled */
	uint64_t errors[NMD_VU_NQUEUES];	/* malformed frames (tx) */
};
void nmd_vu_info(const struct nmd_vu_dev *d, struct nmd_vu_info *out);

/* ---- data path (forwarding threads, see the thread model) ---- */

/* A frame the guest transmitted, virtio-net header removed: nseg pieces
 * of guest memory, valid until nmd_vu_tx_done().  The guest may change
 * the bytes under us (they are its buffers): copy what you need once. */
struct nmd_vu_frame {
	uint32_t len;
	uint16_t nseg;
	const struct nmd_vu_seg *seg;
};

/* Take up to max (<= NMD_VU_BURST) frames the guest transmitted.  Returns
 * how many were stored in f (0: none, queue not running, or broken). */
unsigned nmd_vu_tx_peek(struct nmd_vu_dev *d, struct nmd_vu_frame *f, unsigned max);
/* Give every peeked chain back to the guest and interrupt it if it asked. */
void nmd_vu_tx_done(struct nmd_vu_dev *d);
typedef void (*nmd_vu_tx_fn)(void *arg, const struct nmd_vu_frame *f);
/* peek + fn for each frame + done; returns the number of frames */
unsigned nmd_vu_tx_burst(struct nmd_vu_dev *d, nmd_vu_tx_fn fn, void *arg, unsigned max);
/* Copy len bytes of a frame, from offset off, to dst (off + len <= f->len). */
void nmd_vu_frame_copy(const struct nmd_vu_frame *f, uint32_t off, void *dst, uint32_t len);

/*
 * nmd_vu_rx_deliver - copy one frame into the guest's receive queue
 * (zeroed virtio-net header; with MRG_RXBUF the frame may span several
 * buffers and num_buffers says how many).  Visible to the guest after
 * nmd_vu_rx_flush().  Returns 0, -ENETDOWN (queue not running or not
 * enabled, or broken), -ENOBUFS (not enough buffers posted: dropped),
 * -EMSGSIZE (empty or longer than NMD_VU_MAX_FRAME, or larger than one
 * buffer without MRG_RXBUF), -EIO (the guest broke the device now).
 */
int nmd_vu_rx_deliver(struct nmd_vu_dev *d, const void *frame, uint32_t len);
int nmd_vu_rx_deliver_v(struct nmd_vu_dev *d, const struct iovec *iov, unsigned n);
void nmd_vu_rx_flush(struct nmd_vu_dev *d);

int nmd_vu_wait_fd(const struct nmd_vu_dev *d);
bool nmd_vu_kick_enable(struct nmd_vu_dev *d, unsigned q);
void nmd_vu_kick_disable(struct nmd_vu_dev *d, unsigned q);
void nmd_vu_kick_drain(struct nmd_vu_dev *d);

#ifdef __cplusplus
}
#endif

#endif /* NMD_VHOST_USER_H */
