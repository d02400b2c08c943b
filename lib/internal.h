/*
 * internal.h - libnetmap's private interfaces: the emulated /dev/netmap
 * device (port descriptors, control requests, sync, poll) and the libc
 * entry points it interposes.  Never included by a public header.
 *
 * Naming: unm_<module>_<verb>.  Internals return 0 or -errno; only the
 * interposed libc functions set errno.
 */
#ifndef UNM_INTERNAL_H
#define UNM_INTERNAL_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/types.h>
#include <time.h>

#include <net/netmap.h>

#include "unm_layout.h"
#include "unm_reason.h"
#include "unm_wire.h"

#ifndef UNM_EXPORT
#define UNM_EXPORT __attribute__((visibility("default")))
#endif

/* ---- the libc functions we interpose, reached through RTLD_NEXT ---- */
struct unm_libc {
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*close)(int);
	int (*ioctl)(int, unsigned long, ...);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
		       const sigset_t *);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
};
extern struct unm_libc unm_libc;
void unm_libc_init(void);
/* fill the entries dlsym could not find (static executables) with plain
 * system calls (libc_raw.c) */
void unm_libc_raw(struct unm_libc *l);

/* ---- mapped regions (one mapping per region per process) ---- */
struct unm_map {
	uint64_t region_id;
	char *base;
	size_t size;
	uint64_t file_ofs;	/* where the region starts in memfd (a guest's
				 * device descriptor: the BAR's offset) */
	int memfd;		/* kept for the application's own mmap() */
	int refs;
	struct unm_map *next;
};

/* ---- bound rings and port descriptors ---- */
struct unm_port;

struct unm_ring {
	struct netmap_ring *ring;	/* in the region */
	struct unm_ring_ctl *ctl;
	struct netmap_ring *peer;	/* pipes: linked ring of the other end */
	struct unm_ring_ctl *peer_ctl;
	uint32_t n;			/* slots: trusted copy, never re-read */
	uint32_t buf_total;		/* trusted region geometry */
	uint32_t buf_size;
	uint8_t dir;			/* UNM_DIR_* */
	bool armed;			/* we set ctl->app_sleep */
	uint64_t busy_owner;		/* sync lock: the other owner we saw, */
	uint64_t busy_since;		/*   and since when (ns, monotonic) */
	int kick_fd;			/* eventfd of the other side's sleepers */
	bool bell_on;			/* in a guest: kick the host with the
					 * doorbell instead (vm_guest.c) */
	uint32_t bell_val;		/*   the doorbell value that does it */
	struct unm_port *port;
	void *priv;			/* per-kind state (NIC sockets' rings) */
	uint16_t id;			/* index within its direction (trusted) */
	char *bufs;			/* buffer 0 of the region, in our mapping */
	uint32_t mon_seen;		/* ctl->mon_gen when `mon` was fetched */
	struct unm_mon_set *mon;	/* the monitors this ring feeds, NULL if
					 * none (mon.c); under the sync lock */
};

struct unm_port_ops;

struct unm_port {
	int fd;				/* our own copy of the connection to
					 * netmapd, for control requests */
	_Atomic int refs;		/* application descriptors (dup) */
	int wake_ep;			/* epoll set of our wake eventfds */
	bool bound;
	const struct unm_port_ops *ops;
	uint64_t nr_flags;		/* from REGISTER */
	uint16_t mem_id;
	struct unm_map *map;
	struct netmap_if *nifp;
	uint32_t nrings[2];		/* bound rings per UNM_DIR_* */
	struct unm_ring *ring[2];
	int efds[UNM_WIRE_MAXFDS];	/* eventfds received at REGISTER */
	unsigned nefds;
	pthread_mutex_t ctl_lock;	/* one control request at a time */
	bool broken;			/* a reply timed out: connection unusable */
	bool peer_hup;			/* UNETMAP_PEER_HUP: poll() says POLLHUP
					 * when a pipe's other end went away */
	/* a passthrough port in a guest (vm_guest.c): the device's doorbell
	 * register, mapped, or reached with pwrite() on bell_fd */
	volatile uint32_t *bell_reg;
	void *bell_map;
	size_t bell_maplen;
	int bell_fd;
	uint64_t bell_ofs;
};

/*
 * The kring state of one sync (netmap's nr_hwcur / nr_hwtail, plus
 * per-kind state).  It lives in the ring's control block, which every
 * party mapping the region can write, so ring_sync() reads it once into
 * this private copy, validates it against the trusted slot count, hands
 * the copy to the kind's sync, and writes it back at the end: nothing a
 * peer writes meanwhile is ever used.  A kind's sync keeps hwcur and
 * hwtail below the slot count and validates kx[] itself.
 */
struct unm_kring {
	uint32_t hwcur;
	uint32_t hwtail;
	uint32_t kx[4];
};

/* Per port kind: the "hardware" half of txsync/rxsync.  Called with the
 * ring's sync lock held, after the prologue validated head and cur,
 * with the validated kring state in *k, which they update; the caller
 * stores it and copies hwtail into ring->tail.  They return 0 or -errno
 * (the ring's device failed: poll() reports POLLERR).  Optional
 * bind/unbind set up and release per-kind state (the extra part of the
 * REGISTER reply after ring[], and the descriptors, which stay the
 * port's: bind must not close them).  Optional arm is called with true by
 * unm_port_arm() (the caller re-checks the rings next, then sleeps on
 * wake_ep) and with false by unm_port_disarm(). */
struct unm_port_ops {
	const char *name;
	int (*txsync)(struct unm_ring *r, struct unm_kring *k, uint32_t head);
	int (*rxsync)(struct unm_ring *r, struct unm_kring *k, uint32_t head);
	int (*bind)(struct unm_port *p, char *base, const struct unm_bind_info *bi,
		    size_t len, const int *fds, unsigned nfds);
	void (*unbind)(struct unm_port *p);
	void (*arm)(struct unm_port *p, bool on);
};

extern const struct unm_port_ops unm_pipe_ops, unm_null_ops, unm_nullsink_ops, unm_hw_ops;
extern const struct unm_port_ops unm_xdp_ops, unm_packet_ops, unm_monitor_ops, unm_veth_ops;

/* fd table (dev_table.c) */
struct unm_port *unm_port_lookup(int fd);
int unm_port_insert_ref(struct unm_port *p, int fd);
void unm_port_remove(int fd);
bool unm_any_ports(void);

/* daemon connection (ctl_client.c) */
int unm_ctl_connect(void);

int unm_ctl_call(struct unm_port *p, uint16_t type, const void *payload, uint32_t len,
		 void *reply, uint32_t *reply_len, int *fds, unsigned *nfds);

/* device operations (dev_*.c) */
int unm_dev_open(int flags);
int unm_dev_close(struct unm_port *p, int fd);
int unm_dev_ioctl(struct unm_port *p, unsigned long cmd, void *arg);
void *unm_dev_mmap(struct unm_port *p, void *addr, size_t len, int prot, int flags,
		   off_t off, int *err);
int unm_dev_nmreq(struct unm_port *p, struct nmreq_header *hdr);
int unm_dev_bind(struct unm_port *p, const struct unm_bind_info *bi, size_t len,
		 int *fds, unsigned nfds);
void unm_dev_unbind_local(struct unm_port *p);
/* a descriptor this process did not open (SCM_RIGHTS, exec): if it is a
 * connection to our netmapd, set it up from its binding (dev_adopt.c) */
struct unm_port *unm_dev_adopt(int fd);

/* passthrough ports seen from a guest (vm_guest.c) */
int unm_vm_parse(const struct unm_bind_info *bi, size_t len, unsigned nfds,
		 const struct unm_bind_vm **out);
int unm_vm_bind(struct unm_port *p, const struct unm_bind_vm *vm, const int *fds);
void unm_vm_unbind(struct unm_port *p);
void unm_vm_kick(const struct unm_ring *r);

/* sync (sync.c) */
int unm_txsync(struct unm_ring *r);
int unm_rxsync(struct unm_ring *r);
void unm_kick(struct unm_ring *r, _Atomic uint32_t *sleep_flag);

/* monitors fed by a ring (mon.c), called by ring_sync() with the ring's
 * sync lock held: refresh when ctl->mon_gen moved; when the ring feeds
 * monitors (r->mon), the kind's txsync/rxsync wrapped in the mirroring:
 * copies of the slots a txsync hands over and of those an rxsync brought,
 * buffer swaps (zero copy) of what a txsync reclaimed or an rxsync
 * releases.  unm_mon_unbind() drops a port's lists. */
void unm_mon_refresh(struct unm_ring *r);
int unm_mon_txsync(struct unm_ring *r, struct unm_kring *k, uint32_t head);
int unm_mon_rxsync(struct unm_ring *r, struct unm_kring *k, uint32_t head);
void unm_mon_unbind(struct unm_port *p);

/* poll (dev_poll.c) */
short unm_port_eval(struct unm_port *p, short events);
void unm_port_arm(struct unm_port *p, short events);
void unm_port_disarm(struct unm_port *p);
int unm_poll_common(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
		    const sigset_t *sigmask);
int unm_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev, bool *handled);
int unm_epoll_wait_common(int epfd, struct epoll_event *evs, int max, int timeout_ms,
			  const sigset_t *sigmask);
void unm_epoll_forget_port(struct unm_port *p);

/* spin before sleeping in poll (UNETMAP_POLL_SPIN_US) */
extern unsigned unm_poll_spin_us;

#endif /* UNM_INTERNAL_H */
