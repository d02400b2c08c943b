/*
 * ivshmem_server.h - the host side of QEMU's ivshmem-doorbell device: an
 * ivshmem server for one shared-memory file on one UNIX socket.
 *
 * A QEMU started with
 *
 *   -chardev socket,id=ivs,path=PATH
 *   -device ivshmem-doorbell,chardev=ivs,vectors=N
 *
 * connects to PATH and receives, as QEMU's docs/specs/ivshmem-spec.rst
 * describes (8-byte little-endian numbers, descriptors by SCM_RIGHTS):
 * the protocol version (0), its own peer id, the shared memory (-1 + the
 * memfd, which becomes the guest's BAR2), then for every other peer its
 * id N times with one eventfd per vector, then its own id N times with
 * its own vector eventfds.  Later: a peer id with descriptors when a peer
 * joins, without when it leaves.  The connection is one-way: QEMU never
 * writes, so a client that does is not QEMU and is dropped.
 *
 * Peer ids and eventfds
 * ---------------------
 * The server takes part as a peer itself, with id NMD_IVSHMEM_SERVER_ID
 * (0); guests get ids from 1 up, in increasing order: QEMU cannot take a
 * new peer under the id of one it was told had left (it frees that id's
 * state and then uses it; see ivshmem_server.c), so an id comes back only
 * when no connected QEMU saw it leave.  Each guest has
 *
 *   kick[v]  its own vector eventfds: a write to kick[v] (by the host,
 *            nmd_ivshmem_server_kick(), or by another guest's doorbell)
 *            raises MSI-X vector v in that guest;
 *   bell[v]  the eventfds it was given for "peer 0": the guest's doorbell
 *            write ((0 << 16) | v to BAR0 offset 12) becomes a write to
 *            its bell[v].  Every guest has bells of its own, so the host
 *            knows which guest rang.
 *
 * Event loop
 * ----------
 * No threads and no blocking calls.  nmd_ivshmem_server_fd() is one
 * descriptor (an epoll set of the listening socket and the peers'
 * sockets, plus the bells when the owner asked for ring callbacks) to add
 * to the owner's epoll or poll set for reading; when it is readable, call
 * nmd_ivshmem_server_process(), which accepts, serves, notices hang-ups
 * and calls the owner back.  Level-triggered: it stays readable while
 * anything is pending.
 *
 * Trust
 * -----
 * Clients are untrusted.  A client that sends anything, hangs up, or
 * whose socket cannot take a message at once (QEMU reads promptly; a full
 * socket means a peer that does not) is dropped and its departure
 * announced to the others.  Nothing a client does makes the server block
 * or fail.
 *
 * Sizes: QEMU maps the whole memfd as BAR2, whose size must be a power of
 * two: QEMU 7.2 fails the device for a size that is not a multiple of the
 * page size ("backing store size ... does not match") and aborts on an
 * assertion in pci_register_bar() for any other size that is not a power
 * of two, killing the guest.  The server refuses such memory at creation.
 */
#ifndef NMD_IVSHMEM_SERVER_H
#define NMD_IVSHMEM_SERVER_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NMD_IVSHMEM_SERVER_ID	0	/* the host's peer id */
#define NMD_IVSHMEM_MAX_VECTORS	64	/* per peer (QEMU's own limit is
					 * higher; more would be unusual) */
#define NMD_IVSHMEM_MAX_PEERS	1024	/* guests per server */

struct nmd_ivshmem_server;

/* A guest, as the callbacks see it.  The descriptors stay valid until the
 * leave callback for this id has returned; the server closes them then.
 * The owner must take them out of its own epoll sets in that callback:
 * QEMU holds copies, so closing ours would not remove them. */
struct nmd_ivshmem_peer {
	uint16_t id;
	unsigned vectors;
	const int *kick;	/* [vectors]: write 1 to raise vector v */
	const int *bell;	/* [vectors]: readable when the guest rang v */
};

struct nmd_ivshmem_ops {
	/* A guest got everything (memory, peers, its vectors).  May be NULL. */
	void (*join)(void *arg, const struct nmd_ivshmem_peer *p);
	/* The guest went away (hang-up, QEMU killed, misbehaviour, or
	 * nmd_ivshmem_server_free()).  May be NULL. */
	void (*leave)(void *arg, uint16_t id);
	/* If not NULL, the server watches every guest's bells itself and
	 * calls this from nmd_ivshmem_server_process() for each ring, after
	 * draining the eventfd (several rings may merge into one call).
	 * Leave it NULL to wait on the bells elsewhere (e.g. in a data-path
	 * thread). */
	void (*ring)(void *arg, uint16_t id, unsigned vector);
};

struct nmd_ivshmem_params {
	const char *path;	/* UNIX socket to listen on (a stale socket
				 * there is replaced, a live one is EADDRINUSE) */
	mode_t mode;		/* of the socket file; 0: 0600 */
	int shm_fd;		/* the shared memory (duplicated: the caller
				 * keeps its own descriptor) */
	unsigned vectors;	/* per peer, 1..NMD_IVSHMEM_MAX_VECTORS; must
				 * match QEMU's vectors= */
	unsigned max_peers;	/* guests at once; 0: 16 */
	const struct nmd_ivshmem_ops *ops;	/* may be NULL */
	void *arg;		/* passed to the ops */
	/* Optional, for a server of one guest at a time (max_peers 1): the
	 * eventfds that guest gets, `vectors` of each, where -1 entries are
	 * made fresh; duplicated, the caller keeps its own.  kick_fds[v]
	 * becomes the guest's vector v (writing it raises MSI-X vector v
	 * there), bell_fds[v] what the guest's doorbell for vector v of peer
	 * 0 writes.  Handing the data path's own eventfds over here lets
	 * kicks cross without any relay (VM passthrough, vm/export.c). */
	const int *kick_fds;
	const int *bell_fds;
};

/**
 * nmd_ivshmem_server_new - listen on params->path for QEMU peers.
 * @p:   parameters (copied)
 * @out: the new server
 *
 * Returns 0, or -errno: -EINVAL (bad vectors/max_peers, given eventfds
 * with max_peers other than 1, empty memfd, or a size that is not a power
 * of two), -ENAMETOOLONG (path), -EADDRINUSE (a
 * live server owns the path), or what socket(), bind(), listen(), fstat(),
 * eventfd() or epoll_create1() returned.  Logs why.
 */
int nmd_ivshmem_server_new(const struct nmd_ivshmem_params *p,
			   struct nmd_ivshmem_server **out);

/**
 * nmd_ivshmem_server_free - drop every peer (calling leave for each),
 * close everything and remove the socket file.  NULL is accepted.
 */
void nmd_ivshmem_server_free(struct nmd_ivshmem_server *s);

/** The descriptor to wait on for reading (see "Event loop"). */
int nmd_ivshmem_server_fd(const struct nmd_ivshmem_server *s);

/**
 * nmd_ivshmem_server_process - do what is pending, without blocking.
 *
 * Accepts new peers, drops the ones that hung up or misbehaved, and calls
 * the ops.  Work per call is bounded; call again while the descriptor is
 * readable.  Returns 0, or -errno if the server's own epoll failed.
 */
int nmd_ivshmem_server_process(struct nmd_ivshmem_server *s);

/**
 * nmd_ivshmem_server_kick - raise MSI-X vector @vector in guest @id.
 *
 * Like every function here, for the thread that runs
 * nmd_ivshmem_server_process() (it looks the guest up among the peers,
 * which that thread changes).  A data-path thread writes 1 to the kick
 * descriptors it was given by the join callback instead.
 *
 * Returns 0; -ENOENT if no such guest; -EINVAL if @vector is out of range;
 * or the eventfd write's -errno.
 */
int nmd_ivshmem_server_kick(struct nmd_ivshmem_server *s, uint16_t id, unsigned vector);

/** Guests connected now. */
unsigned nmd_ivshmem_server_npeers(const struct nmd_ivshmem_server *s);

#ifdef __cplusplus
}
#endif

#endif /* NMD_IVSHMEM_SERVER_H */
