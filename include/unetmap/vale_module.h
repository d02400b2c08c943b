/*
 * unetmap/vale_module.h - VALE switch modules: forwarding logic that
 * netmapd loads into a switch while it runs (vale-ctl --module), as
 * netmap's kernel modules override a switch's lookup function
 * (netmap_bdg_regops) -- here as a shared object, not a kernel module.
 * The guide is docs/vale-modules.md.
 *
 * A module is a shared object exporting one symbol, `unm_vale_module`,
 * of type struct unm_vale_module:
 *
 *	#include <unetmap/vale_module.h>
 *
 *	static uint32_t my_lookup(const struct unm_vale_frame *f,
 *				  uint8_t *dst_ring, void *priv)
 *	{
 *		return NM_BDG_BROADCAST;	 (a hub)
 *	}
 *
 *	UNM_VALE_MODULE_EXPORT const struct unm_vale_module unm_vale_module = {
 *		UNM_VALE_MODULE_HEADER,
 *		.name = "hub",
 *		.lookup = my_lookup,
 *	};
 *
 *	cc -O2 -fPIC -shared $(pkg-config --cflags libnetmap) hub.c -o hub.so
 *	vale-ctl --module vale0 /usr/local/lib/hub.so
 *
 * What netmapd guarantees
 * -----------------------
 * - lookup (or lookup_batch) runs on netmapd's forwarding threads, for
 *   every frame a port of the switch sends, before any copy.  Calls for
 *   frames of one source port come from one thread at a time, in order;
 *   calls for different source ports may run at the same time on
 *   different threads, and at the same time as config, port_attach and
 *   port_detach (which netmapd's main thread runs).  Shared state must
 *   therefore be read and written with atomics, or replaced as a whole and
 *   freed after host->synchronize().
 * - init, fini, config, port_attach and port_detach run on netmapd's main
 *   thread, never two at once.  init runs before the first lookup; fini
 *   after the last lookup has returned (the switch waited for every
 *   forwarding thread to pass a quiescent point), so it may free
 *   everything.
 * - Frames shorter than 14 bytes never reach a module; f->data has at
 *   least f->len >= 14 readable bytes.  They are in the sender's memory,
 *   which the sender may be rewriting while you read: read each field
 *   once (copy the headers you need) and never trust a value read from a
 *   frame as an index without bounding it.
 * - Every verdict is checked: a port index that names no port of the
 *   switch, the source port itself, or any value other than a port index,
 *   NM_BDG_BROADCAST or NM_BDG_NOPORT drops the frame and is counted as
 *   "invalid" (vale-ctl --module SWITCH shows the counters).
 * - A module is replaced (or removed) between two batches of every
 *   thread: no frame is lost or seen by two modules.
 *
 * What netmapd cannot guarantee
 * -----------------------------
 * A module is native code in netmapd's address space, with netmapd's
 * privileges.  A module that crashes, corrupts memory or blocks takes
 * netmapd -- every switch, pipe and port -- with it.  netmapd therefore
 * loads only files that nobody but root (or, when netmapd does not run
 * as root, its own user) can have written: see docs/vale-modules.md.  A
 * sandboxed, verified bytecode (eBPF in user space) would contain such
 * bugs, but Debian packages no user-space eBPF runtime, so unetmap does
 * not offer one.
 *
 * Versions
 * --------
 * UNM_VALE_MODULE_ABI changes whenever a change would break a module
 * built before it; netmapd refuses a module built for another ABI
 * (EPROTONOSUPPORT, and says which).  New callbacks are only ever added
 * at the end of the structures, whose `size` says how much of them the
 * other side knows: a module built against an older header of the same
 * ABI simply lacks the new callbacks.
 */
#ifndef UNETMAP_VALE_MODULE_H
#define UNETMAP_VALE_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include <net/netmap.h>		/* NM_BDG_BROADCAST, NM_BDG_NOPORT, struct nm_ifreq */

#ifdef __cplusplus
extern "C" {
#endif

#define UNM_VALE_MODULE_ABI	1u

/* The symbol netmapd looks for (dlsym). */
#define UNM_VALE_MODULE_SYMBOL	"unm_vale_module"

#if defined(__GNUC__) || defined(__clang__)
#define UNM_VALE_MODULE_EXPORT	__attribute__((visibility("default")))
#define UNM_VALE_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#else
#define UNM_VALE_MODULE_EXPORT
#define UNM_VALE_PRINTF(f, a)
#endif

/*
 * struct unm_vale_frame - one frame, as a lookup function sees it.
 *
 * data		its first bytes, from the Ethernet header on (after the
 *		virtio-net header, if the source port has one)
 * len		bytes readable at data: the first fragment, >= 14
 * frame_len	bytes of the whole frame (all its fragments)
 * src_port	index of the port that sent it
 * src_ring	index of the TX ring it came from
 * nfrags	slots it occupies (NS_MOREFRAG chains)
 * dst		lookup_batch only: the verdict (set to NM_BDG_NOPORT before
 *		the call); lookup returns it instead
 * dst_ring	RX ring of the destination port to deliver to, modulo that
 *		port's ring count: set to src_ring before the call, as in
 *		netmap; broadcasts always go to ring 0
 */
struct unm_vale_frame {
	const uint8_t *data;
	uint32_t len;
	uint32_t frame_len;
	uint32_t src_port;
	uint16_t src_ring;
	uint16_t nfrags;
	uint32_t dst;
	uint8_t dst_ring;
	uint8_t reserved[3];
};

/* Log levels of host->log. */
#define UNM_VALE_LOG_ERR	0
#define UNM_VALE_LOG_WARN	1
#define UNM_VALE_LOG_INFO	2
#define UNM_VALE_LOG_DEBUG	3

/*
 * struct unm_vale_host - what netmapd offers a module, one per switch the
 * module is loaded in; valid from init until fini returns.
 *
 * abi, size	netmapd's UNM_VALE_MODULE_ABI and sizeof(struct
 *		unm_vale_host); fields beyond `size` do not exist
 * Every callback takes the host it belongs to: keep the pointer init
 * receives in the private state.
 *
 * switch_name	"vale0"
 * max_ports	port indices are below this (4096 today); 254 and 255 are
 *		never port indices, so the verdicts keep their meaning
 * max_rings	RX rings per port are at most this (16)
 * synchronize	wait until every lookup that started before the call has
 *		returned (an RCU grace period): publish a new table with an
 *		atomic store, call this, then free the old one.  Main thread
 *		only (init, fini, config, port_attach, port_detach);
 *		elsewhere it logs an error and returns at once
 * log		a line in netmapd's log, prefixed with the switch and the
 *		module.  Not per frame: lines from forwarding threads are
 *		limited to a few per second
 * error	during init or config: the reason the caller is given with
 *		the error the callback returns (vale-ctl prints it)
 */
struct unm_vale_host {
	uint32_t abi;
	uint32_t size;
	const char *switch_name;
	uint32_t max_ports;
	uint32_t max_rings;
	void (*synchronize)(const struct unm_vale_host *host);
	void (*log)(const struct unm_vale_host *host, int level, const char *fmt, ...)
		UNM_VALE_PRINTF(3, 4);
	void (*error)(const struct unm_vale_host *host, const char *fmt, ...)
		UNM_VALE_PRINTF(2, 3);
};

/*
 * struct unm_vale_module - the module, exported as `unm_vale_module`.
 * Every callback but one of lookup/lookup_batch is optional (NULL).
 *
 * abi, size	UNM_VALE_MODULE_HEADER fills them
 * name		short name for listings and the log ("learn")
 * init		the module is loaded into a switch: allocate the switch's
 *		private state (*priv, passed to every other callback).
 *		args is the text given to vale-ctl after the path ("" if
 *		none).  Returns 0 or an errno value; on error, fini is not
 *		called and the switch keeps its previous logic
 * fini		the module leaves the switch (replaced, unloaded, or
 *		netmapd stops): free the private state
 * lookup	the verdict for one frame: a port index, NM_BDG_BROADCAST
 *		(every port but the source) or NM_BDG_NOPORT (drop); may
 *		change *dst_ring (netmap's nm_bdg_lookup_fn_t)
 * lookup_batch	the same for n frames of one TX ring at once (1 <= n <=
 *		1024): set f[i].dst and, if you want, f[i].dst_ring.  Used
 *		instead of lookup when not NULL
 * config	ioctl(fd, NIOCCONFIG, &nm_ifreq) where nifr_name names the
 *		switch ("vale0" or any "vale0:port"): the layout of
 *		req->data is the module's.  Returns 0 or an errno value.
 *		Without config, NIOCCONFIG fails with EINVAL, as in netmap
 * port_attach	port `port` (full name, "vale0:a") joined the switch; it
 *		may send frames as soon as this returns.  Also called for
 *		every port already there, right after init
 * port_detach	port `port` left the switch; no lookup for its frames is
 *		running any more, and verdicts naming it are now invalid
 */
struct unm_vale_module {
	uint32_t abi;
	uint32_t size;
	const char *name;
	int (*init)(const struct unm_vale_host *host, const char *args, void **priv);
	void (*fini)(void *priv);
	uint32_t (*lookup)(const struct unm_vale_frame *f, uint8_t *dst_ring, void *priv);
	void (*lookup_batch)(struct unm_vale_frame *f, unsigned int n, void *priv);
	int (*config)(void *priv, struct nm_ifreq *req);
	void (*port_attach)(void *priv, uint32_t port, const char *name);
	void (*port_detach)(void *priv, uint32_t port, const char *name);
};

#define UNM_VALE_MODULE_HEADER \
	.abi = UNM_VALE_MODULE_ABI, .size = sizeof(struct unm_vale_module)

/* Declared here so that a C++ module's definition has C linkage. */
extern UNM_VALE_MODULE_EXPORT const struct unm_vale_module unm_vale_module;

#ifdef __cplusplus
}
#endif

#endif /* UNETMAP_VALE_MODULE_H */
