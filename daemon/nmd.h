/*
 * nmd.h - netmapd internals: regions, ports, bindings, clients.
 *
 * netmapd plays the kernel's management role.  It owns every memory region
 * (memfd), lays out rings and buffers in them, keeps the registry of ports,
 * and binds client descriptors to ports.  It never runs an application's
 * data path; it only maps regions to initialise and reclaim them (and, for
 * VALE, to forward).  Everything a client writes into shared memory is
 * untrusted here too: reclaiming a dead client's rings reads indices and
 * buffer numbers that are validated before use.
 */
#ifndef NMD_H
#define NMD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <net/netmap.h>

#include "unm_layout.h"
#include "unm_wire.h"

/* ---- logging (log.c) ---- */
enum nmd_log_level { NMD_LOG_ERR, NMD_LOG_WARN, NMD_LOG_INFO, NMD_LOG_DEBUG };
extern int nmd_log_level;
void nmd_log_open(const char *file);	/* NULL: stderr */
void nmd_log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define nmd_log(lvl, ...) do { if ((lvl) <= nmd_log_level) \
	nmd_log_msg((lvl), __VA_ARGS__); } while (0)
#define nmd_err(...)   nmd_log(NMD_LOG_ERR, __VA_ARGS__)
#define nmd_warn(...)  nmd_log(NMD_LOG_WARN, __VA_ARGS__)
#define nmd_info(...)  nmd_log(NMD_LOG_INFO, __VA_ARGS__)
#define nmd_debug(...) nmd_log(NMD_LOG_DEBUG, __VA_ARGS__)

/* ---- regions (region.c) ---- */

/* A first-fit allocator over fixed units, for the if- and ring-pools. */
struct nmd_extents {
	uint64_t *map;		/* bit set = unit in use */
	uint32_t units;
};

struct nmd_region {
	uint16_t mem_id;
	uint64_t wire_id;	/* unique across daemon runs */
	int memfd;
	char *base;
	size_t size;
	uint64_t if_ofs, if_size, ring_ofs, ring_size, buf_ofs;
	uint32_t buf_size, buf_total, buf_free;
	struct nmd_extents ifs, rings;
	uint64_t *buf_map;	/* bit set = buffer in use */
	uint32_t buf_hint;
	int refs;		/* ports and parents using it */
	bool pinned;		/* the global region (id 1) never goes away */
	/* Handed to a less trusted party (a guest, a container): no port
	 * may join it any more, so that party never shares memory with a
	 * port it was not given (docs/design.md, "Trust and isolation"). */
	char sealed_for[48];	/* "" if not sealed, else who holds it */
	struct nmd_region *next;
};

struct nmd_region_params {
	uint64_t if_size, ring_size;
	uint32_t buf_total, buf_size;
};

struct nmd_region *nmd_region_new(const struct nmd_region_params *p, int *err);
struct nmd_region *nmd_region_find(uint16_t mem_id);
void nmd_region_ref(struct nmd_region *rg);
void nmd_region_unref(struct nmd_region *rg);
/* if/ring pool objects: return a region offset, or 0 when full */
uint64_t nmd_region_alloc_if(struct nmd_region *rg, size_t size);
void nmd_region_free_if(struct nmd_region *rg, uint64_t ofs, size_t size);
uint64_t nmd_region_alloc_ring(struct nmd_region *rg, size_t size);
void nmd_region_free_ring(struct nmd_region *rg, uint64_t ofs, size_t size);
/* buffers: index >= 2, or 0 when none left */
uint32_t nmd_region_alloc_buf(struct nmd_region *rg);
void nmd_region_free_buf(struct nmd_region *rg, uint32_t idx);
bool nmd_region_buf_valid(const struct nmd_region *rg, uint32_t idx);
/* release the pages of free buffers in [lo, hi] (whole pages only) */
void nmd_region_trim(struct nmd_region *rg, uint32_t lo, uint32_t hi);
/* fault in the pages of buffers [first, first + count) at once */
void nmd_region_populate(struct nmd_region *rg, uint32_t first, uint32_t count);
void nmd_region_default_params(struct nmd_region_params *p);
/* May another port join region rg (a pipe in it, NR_REG_NULL or @MEMID
 * with its id)?  No if it is sealed; msg says for whom. */
bool nmd_region_shareable(const struct nmd_region *rg, char *msg, size_t msglen);
void nmd_region_seal(struct nmd_region *rg, const char *holder);
/* The region a new port asked for by mem_id goes into: NULL (EINVAL) if
 * there is none, NULL (EPERM) if it is sealed; msg says which. */
struct nmd_region *nmd_region_join(uint16_t mem_id, char *msg, size_t msglen, int *err);
void nmd_regions_init(void);
/* A region whose memory another party provides (a guest's view of a host
 * region through ivshmem, daemon/vm/guest_port.c): the caller fills rg;
 * this gives it a mem_id and a wire_id of its own and lists it, pinned,
 * so that ids stay unique.  nmd_region_forget() takes it off the list;
 * the memory and the struct stay the caller's. */
int nmd_region_add_foreign(struct nmd_region *rg);
void nmd_region_forget(struct nmd_region *rg);

/* ---- ports (port.c; the kinds in their folders) ---- */

struct nmd_ring {
	uint64_t ofs;		/* region offset of the struct netmap_ring */
	uint32_t nslots;
	uint16_t id;
	uint8_t dir;		/* UNM_DIR_* */
	int users;		/* bindings that bound it */
	bool excl;		/* bound with NR_EXCLUSIVE */
	struct nmd_ring *peer;	/* pipes: linked ring of the other end */
};

struct nmd_port_ops;
struct nmd_pipe;
struct nmd_client;
struct nmd_req;

struct nmd_port {
	char name[NETMAP_REQ_IFNAMSIZ];
	const struct nmd_port_ops *ops;	/* its kind */
	struct nmd_region *rg;
	uint32_t nrings[2];		/* per UNM_DIR_* */
	struct nmd_ring *ring[2];
	int wake[2];			/* eventfds the binders sleep on, one
					 * per direction */
	int hw_kick;			/* eventfd the port's hardware (switch,
					 * NIC engine) sleeps on; -1 if none */
	int nbind;
	bool was_bound;
	struct nmd_pipe *pipe;		/* pipe ends */
	struct nmd_port *next;		/* registry of named ports */
};

/*
 * nmd_port_ops - what a port kind does, as netmap's netmap_adapter: the
 * core (request.c) never asks which kind a port is.  Each kind fills one
 * table in its folder and has one line in kinds.c, whose order is the
 * order in which kinds are asked whether they claim a name.
 *
 * Name level (a port of that name may not exist yet):
 *   claims	does this kind resolve `name`?  reg is the REGISTER body, or
 *		NULL for requests that only look a name up (PORT_INFO_GET...)
 *   open	REGISTER: find or create the port.  On failure nothing is
 *		left behind; msg says why.
 *   info	PORT_INFO_GET of a name no open port has (optional: ENXIO)
 * Port level:
 *   wire_kind	the sync code the library runs (UNM_KIND_*)
 *   bound	a binding was added (p->nbind counts it)
 *   released	a binding went away, or the REGISTER that opened p failed;
 *		the kind destroys p when nothing holds it any more
 *   bind_info	REGISTER reply: the kind's descriptors and data after the
 *		rings (optional)
 *   hdr_len	virtio-net header length of the port's frames (optional: 0)
 *   verbatim	the port's ring counts are the caller's to keep: REGISTER
 *		writes none back (netmap's null adapter)
 * Monitors (monitor/monitor.c), both optional:
 *   find	the open port `name` resolves to for client c, or NULL;
 *		never creates one (default: nmd_named_find)
 *   mon_changed  the monitors fed by p's rings changed.  A kind that has
 *		it makes the copies into RX monitors itself, where its
 *		hardware delivers (nmd_mon_hw_targets): the library then
 *		leaves them out.  It returns once its hardware no longer
 *		uses the targets it had.
 */
struct nmd_port_ops {
	const char *name;
	bool (*claims)(const char *name, const struct nmreq_register *reg);
	int (*open)(struct nmd_client *c, const char *name, struct nmreq_register *reg,
		    struct nmd_port **out, char *msg, size_t msglen);
	int (*info)(struct nmd_client *c, const char *name, struct nmreq_port_info_get *pi,
		    char *msg, size_t msglen);
	uint32_t wire_kind;
	void (*bound)(struct nmd_port *p);
	void (*released)(struct nmd_port *p);
	int (*bind_info)(struct nmd_port *p, struct nmd_req *r);
	uint32_t (*hdr_len)(const struct nmd_port *p);
	bool verbatim;
	struct nmd_port *(*find)(struct nmd_client *c, const char *name);
	void (*mon_changed)(struct nmd_port *p);
};

/* kinds.c: the kind that resolves a name (the last, NICs, claims all) */
const struct nmd_port_ops *nmd_kind_of(const char *name, const struct nmreq_register *reg);

/* ring geometry requested by a creator (0 = default) */
struct nmd_ring_req {
	uint32_t nrings[2];
	uint32_t nslots[2];
};

/* nmd_port_alloc_rings() flags */
#define NMD_RINGS_RX_EMPTY   0x1u	/* RX slots get no buffers (pipes: they
					 * come from the linked TX ring) */
#define NMD_RINGS_NULLSRC    0x2u	/* RX slots hold 60-byte frames */

int nmd_port_alloc_rings(struct nmd_port *p, const struct nmd_ring_req *rq, unsigned flags);
void nmd_port_free_rings(struct nmd_port *p, bool free_bufs);
struct netmap_ring *nmd_ring_ptr(const struct nmd_port *p, const struct nmd_ring *r);
struct unm_ring_ctl *nmd_ring_ctl(const struct nmd_port *p, const struct nmd_ring *r);
void nmd_port_kick(const struct nmd_port *p);
struct nmd_port *nmd_named_find(const char *name);
void nmd_named_add(struct nmd_port *p);
void nmd_named_del(struct nmd_port *p);
/* Every binding went away from ring r: forget a sync lock a dead binder
 * may have left in its control block. */
void nmd_ring_unbound(struct nmd_port *p, struct nmd_ring *r);

/* The kinds (pipe/, null/, vale/, nic/, monitor/) */
extern const struct nmd_port_ops nmd_pipe_ops, nmd_null_ops, nmd_nullsink_ops,
	nmd_vale_ops, nmd_nic_ops, nmd_monitor_ops, nmd_vxlan_ops;

/* vxlan/: UNM_REQ_VXLAN_STATS (unm_vxlan.h) */
int nmd_vxlan_request(struct nmd_client *c, struct nmd_req *r);

/* pipes: name is "<parent>{<id>" or "<parent>}<id>" */
int nmd_pipe_count(void);

/* ---- clients and bindings (client.c, request.c) ---- */

struct nmd_binding {
	struct nmd_port *port;
	uint64_t nifp_ofs;
	size_t nifp_size;
	uint32_t first[2], count[2];	/* bound ring range per direction */
	bool excl;
	uint64_t nr_flags;		/* as registered (NR_NO_TX_POLL...) */
};

struct nmd_grant;

/* what the server's epoll items point to: a client, a grant's socket, or
 * another module's descriptor (struct nmd_watch) */
#define NMD_EP_CLIENT 0
#define NMD_EP_GRANT  1
#define NMD_EP_WATCH  2

struct nmd_client {
	uint8_t ep_type;	/* NMD_EP_CLIENT */
	int fd;
	pid_t pid;
	uid_t uid;
	bool dead;		/* dropped (server.c): no more replies */
	const struct nmd_grant *grant;	/* came through a grant's socket:
					 * limited to its ports; NULL: all */
	struct nmd_binding *bind;
	struct nmd_client *next;
};

/* A request being processed: inputs decoded from the wire, outputs to be
 * sent back. */
struct nmd_req {
	struct unm_msg_nmreq *msg;
	void *body;
	struct nmreq_option *opt[UNM_WIRE_MAXOPTS];
	void *opt_body[UNM_WIRE_MAXOPTS];
	/* outputs for REGISTER */
	struct unm_bind_info *bind;
	size_t bind_len;
	int fds[UNM_WIRE_MAXFDS];
	unsigned nfds;
	char msg_text[UNM_WIRE_TEXT_MAX];	/* why it failed: the log, the reply */
};

int nmd_request(struct nmd_client *c, struct nmd_req *r);
/* Index of fd among r's reply descriptors, added if new (-1: full). */
int nmd_reply_fd(struct nmd_req *r, int fd);
/* UNM_MSG_ADOPT: describe c's binding again (bind info and descriptors in
 * r, as a REGISTER reply) for a process that received the descriptor */
int nmd_bind_describe(struct nmd_client *c, struct nmd_req *r);
/* mark the binding's rings revoked (UNM_RING_REVOKED) and wake them */
void nmd_binding_revoke(struct nmd_binding *b);
void nmd_unbind(struct nmd_client *c);

/* ---- VALE switches (vale/: vale.c, vale_fwd.c; design in vale.h) ---- */

struct nmd_vale_opts {
	unsigned threads;	/* forwarding threads (default 1) */
	bool busy;		/* busy-poll instead of sleeping when idle */
	unsigned batch;		/* slots taken from a TX ring per round
				 * (netmap's bridge_batch; 0: default) */
	int ncpus;		/* thread i is pinned to cpu[i % ncpus] */
	int cpu[64];
};
void nmd_vale_configure(const struct nmd_vale_opts *o);
struct nmd_port *nmd_vale_find(const char *name);
/* Pipes on a VALE port name ("vale1:10{1"): hold the port, creating it
 * if needed; NULL with *err == 0 if the name is not a VALE port's. */
struct nmd_port *nmd_vale_parent_hold(const char *name, int *err);
void nmd_vale_parent_drop(struct nmd_port *p);
/* VALE_*, PORT_HDR_SET, UNM_REQ_VALE_STATS, UNM_REQ_VALE_MODULE. */
int nmd_vale_request(struct nmd_client *c, struct nmd_req *r);
/* UNM_MSG_CONFIG (NIOCCONFIG): payload is the client's struct nm_ifreq,
 * handed to the module of the switch it names, which may change it (the
 * reply carries it back).  0 or -errno with the reason in msg. */
int nmd_vale_config(struct nmd_client *c, void *payload, size_t len, char *msg, size_t msglen);
bool nmd_vale_busy(void);	/* switches or persistent ports exist */
void nmd_vale_fini(void);

/* VM ports: switch ports whose frames are a QEMU guest's (vale-ctl -n
 * valeX:Y --vhost-user PATH).  vm/vhost_port.c owns the vhost-user
 * device and the port's life; vale.c the switch side. */
struct nmd_vu_dev;
/* the switch side: port `name` in its switch, its data path the device's;
 * NULL with *err and msg on failure (EINVAL, EEXIST, ENOMEM) */
struct nmd_port *nmd_vale_vm_new(const char *name, struct nmd_vu_dev *dev, char *msg,
				 size_t msglen, int *err);
/* out of the switch and freed; the device is no longer used after it */
void nmd_vale_vm_del(struct nmd_port *p);
/* the device's pause/resume hooks (vm/vhost_user.h) */
void nmd_vale_vm_pause(struct nmd_port *p);
void nmd_vale_vm_resume(struct nmd_port *p);
/* vm/vhost_port.c: UNM_REQ_VALE_VHOST (common/unm_vale.h) */
int nmd_vhost_request(struct nmd_client *c, struct nmd_req *r);
/* VALE_DELIF of a VM port: 0 or -errno, reason in msg */
int nmd_vhost_delete(const char *name, char *msg, size_t msglen);
/* netmapd stops: every VM port goes */
void nmd_vhost_fini(void);
/* the kind that claims VM port names (they cannot be opened) */
extern const struct nmd_port_ops nmd_vhost_ops;

/* ---- network interfaces: netmap:IFNAME (nic/; design in nic.h) ---- */

struct nmd_nic_opts {
	uint64_t mode;		/* default NR_UNM_NIC_* bits (0: best) */
	uint32_t bufs;		/* buffers of a NIC region (0: default) */
	const char *socket;	/* our socket, for the VALE forwarders */
	bool disabled;		/* no interfaces at all (--no-nic; the
				 * fuzzer: never touch a real one) */
};
/* interfaces disabled: REGISTER, PORT_INFO_GET and VALE_ATTACH of an
 * interface are ENXIO with this reason */
bool nmd_nic_disabled(char *msg, size_t msglen);
void nmd_nic_configure(const struct nmd_nic_opts *o);
void nmd_nic_init(void);
void nmd_nic_fini(void);
/* VALE_ATTACH of "valeX:IFNAME" that names no VALE port, VALE_DETACH of
 * an attached interface (switch index idx), as netmap-facts 5.5 */
int nmd_nic_vale_attach(struct nmd_client *c, struct nmd_req *r);
int nmd_nic_vale_detach(struct nmd_client *c, struct nmd_req *r, uint32_t idx);
bool nmd_nic_vale_attached(const char *name);
/* VALE_ATTACH "valeB:v0" of persistent port v0 attached to another
 * switch (nic_vale.c: a forwarder links the two); is v0 so attached */
int nmd_nic_vale_wrap(struct nmd_client *c, struct nmd_req *r);
bool nmd_nic_vale_wrapped(const char *pname);
/* UNM_REQ_NIC_INFO (unm_nic.h) */
int nmd_nic_request(struct nmd_client *c, struct nmd_req *r);
/* vale.c, for the above: create (if needed) and hold the switch port an
 * attached interface's frames enter by; its index in *idx */
struct nmd_port *nmd_vale_nic_hold(const char *name, uint32_t *idx, char *msg, size_t msglen,
				   int *err);
/* the same with ring geometry (nr_*_rings, nr_*_slots; 0: default) */
struct nmd_port *nmd_vale_nic_hold_reg(const char *name, const struct nmreq_register *reg,
				       uint32_t *idx, char *msg, size_t msglen, int *err);

/* ---- monitors (monitor/monitor.c; design in unm_mon.h) ---- */

struct unm_mon_ring;
/* nmd_unbind(): binding b of p goes away (still counted in p->nbind).
 * The last one takes p out of netmap mode: its monitors are orphaned. */
void nmd_mon_unbound(struct nmd_port *p, struct nmd_binding *b);
/* Has p a live zero-copy monitor (/z)?  (The veth fast path does not link
 * such a port: the buffers a linked TX ring reclaims are the peer's.) */
bool nmd_mon_has_zcopy(const struct nmd_port *p);
/* UNM_REQ_MON_STATS, UNM_REQ_MON_TARGETS */
int nmd_mon_request(struct nmd_client *c, struct nmd_req *r);
/* For a kind with mon_changed: the copy monitors RX ring `ringid` of p
 * feeds, in netmapd's mappings.  Fills up to max entries of out and
 * returns how many there are. */
unsigned nmd_mon_hw_targets(struct nmd_port *p, uint32_t ringid, struct unm_mon_ring *out,
			    unsigned max);
/* ---- VM passthrough (vm/: export.c on the host, guest_port.c in a
 * guest; design in common/unm_vm.h and docs/passthrough.md) ---- */
/* UNM_REQ_VM_EXPORT, _UNEXPORT, _LIST */
int nmd_vm_request(struct nmd_client *c, struct nmd_req *r);
bool nmd_vm_busy(void);		/* exports exist */
void nmd_vm_fini(void);		/* end every export (netmapd stops) */
/* the guest's kind: ports a host exported to this machine */
extern const struct nmd_port_ops nmd_guest_ops;
void nmd_guest_fini(void);

/* ---- server (server.c) ---- */
int nmd_server_listen(const char *path, int *lockfd);
int nmd_server_loop(int lfd, int idle_exit_sec);
void nmd_reap_hangups(void);
void nmd_server_serve_fd(int fd, pid_t pid);	/* the fuzzer's door */

/*
 * Grants (grant.c): a socket of its own for a less trusted party (a
 * container), through which only ports whose names start with a prefix
 * can be opened; their regions are sealed for the grant's holder.
 */
struct nmd_grant {
	uint8_t ep_type;		/* NMD_EP_GRANT */
	char path[108];
	char holder[48];
	char prefix[NETMAP_REQ_IFNAMSIZ];
	uint32_t flags;			/* UNM_GRANT_* */
	int lfd;
	struct nmd_grant *next;
};
/* UNM_REQ_GRANT / UNM_REQ_REVOKE */
int nmd_grant_request(struct nmd_client *c, struct nmd_req *r);
/* 0, or -EPERM with a reason: may c make request r? */
int nmd_grant_check(const struct nmd_client *c, struct nmd_req *r);
/* after a successful REGISTER by a client of a grant: seal what it bound */
int nmd_grant_bound(const struct nmd_client *c, struct nmd_port *p, struct nmd_req *r);
bool nmd_grants_exist(void);
void nmd_grants_fini(void);
/* server.c, for grant.c: watch / forget a grant's listening socket */
bool nmd_server_has_loop(void);
int nmd_server_watch_grant(struct nmd_grant *g);
void nmd_server_unwatch_grant(struct nmd_grant *g);
void nmd_server_drop_grant_clients(const struct nmd_grant *g);
/*
 * Watches: a descriptor another module wants served by the control
 * thread (a VM port's vhost-user sockets, a VM export's ivshmem server), so that what its callback does
 * to ports never races a request.  cb runs between requests while fd is
 * readable (level-triggered).  After nmd_server_unwatch() returns, cb
 * is not called again, even for an event of the batch being handled, and
 * w may be freed.  -ENOTCONN when there is no event loop (the fuzzer).
 */
struct nmd_watch {
	uint8_t ep_type;		/* NMD_EP_WATCH (set by the server) */
	int fd;
	void (*cb)(struct nmd_watch *w);
};
int nmd_server_watch(struct nmd_watch *w);
void nmd_server_unwatch(struct nmd_watch *w);
/* the holder of the client whose request runs now (NULL: not a grant's) */
const char *nmd_current_holder(void);
extern volatile int nmd_stop;

#endif /* NMD_H */
