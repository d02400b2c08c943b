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
void nmd_region_default_params(struct nmd_region_params *p);
void nmd_regions_init(void);

/* ---- ports (port.c, pipe.c, null.c) ---- */

struct nmd_ring {
	uint64_t ofs;		/* region offset of the struct netmap_ring */
	uint32_t nslots;
	uint16_t id;
	uint8_t dir;		/* UNM_DIR_* */
	int users;		/* bindings that bound it */
	bool excl;		/* bound with NR_EXCLUSIVE */
	struct nmd_ring *peer;	/* pipes: linked ring of the other end */
};

enum nmd_port_kind { NMD_PORT_PIPE, NMD_PORT_NULL, NMD_PORT_NULLSINK };

struct nmd_pipe;

struct nmd_port {
	char name[NETMAP_REQ_IFNAMSIZ];
	enum nmd_port_kind kind;
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

/* ring geometry requested by a creator (0 = default) */
struct nmd_ring_req {
	uint32_t nrings[2];
	uint32_t nslots[2];
};

int nmd_port_alloc_rings(struct nmd_port *p, const struct nmd_ring_req *rq,
			 bool nullsrc);
void nmd_port_free_rings(struct nmd_port *p, bool free_bufs);
struct netmap_ring *nmd_ring_ptr(const struct nmd_port *p, const struct nmd_ring *r);
struct unm_ring_ctl *nmd_ring_ctl(const struct nmd_port *p, const struct nmd_ring *r);
void nmd_port_kick(const struct nmd_port *p);
struct nmd_port *nmd_named_find(const char *name);
void nmd_named_add(struct nmd_port *p);
void nmd_named_del(struct nmd_port *p);

/* pipes: name is "<parent>{<id>" or "<parent>}<id>" */
int nmd_pipe_open(const char *name, const struct nmd_ring_req *rq,
		  struct nmd_port **out, char *msg, size_t msglen);
void nmd_pipe_bound(struct nmd_port *end);
struct nmd_port *nmd_pipe_peer(struct nmd_port *end);
void nmd_pipe_unbound(struct nmd_port *end);
void nmd_pipe_info(const char *name, struct nmreq_port_info_get *out);
int nmd_pipe_count(void);

/* null ports */
int nmd_null_open(const char *name, uint16_t mem_id, bool sink,
		  const struct nmreq_register *reg, struct nmd_port **out,
		  char *msg, size_t msglen);
void nmd_null_unbound(struct nmd_port *p);

/* ---- clients and bindings (client.c, request.c) ---- */

struct nmd_binding {
	struct nmd_port *port;
	uint64_t nifp_ofs;
	size_t nifp_size;
	uint32_t first[2], count[2];	/* bound ring range per direction */
	bool excl;
};

struct nmd_client {
	int fd;
	pid_t pid;
	uid_t uid;
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
	char msg_text[160];		/* why it failed, for the log */
};

int nmd_request(struct nmd_client *c, struct nmd_req *r);
void nmd_unbind(struct nmd_client *c);

/* ---- server (server.c) ---- */
int nmd_server_listen(const char *path, int *lockfd);
int nmd_server_loop(int lfd, int idle_exit_sec);
void nmd_reap_hangups(void);
extern volatile int nmd_stop;

#endif /* NMD_H */
