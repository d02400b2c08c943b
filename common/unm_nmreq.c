/*
 * unm_nmreq.c - request and option body sizes (netmap-facts §2.3, §2.5).
 */
#include <net/netmap.h>

#include "unm_nmreq.h"
#include "unm_nic.h"
#include "unm_mon.h"
#include "unm_vale.h"
#include "unm_veth.h"
#include "unm_vm.h"
#include "unm_vxlan.h"

int unm_nmreq_body_size(uint16_t t)
{
	switch (t) {
	case NETMAP_REQ_REGISTER:		return sizeof(struct nmreq_register);
	case NETMAP_REQ_PORT_INFO_GET:		return sizeof(struct nmreq_port_info_get);
	case NETMAP_REQ_VALE_ATTACH:		return sizeof(struct nmreq_vale_attach);
	case NETMAP_REQ_VALE_DETACH:		return sizeof(struct nmreq_vale_detach);
	case NETMAP_REQ_VALE_LIST:		return sizeof(struct nmreq_vale_list);
	case NETMAP_REQ_PORT_HDR_SET:
	case NETMAP_REQ_PORT_HDR_GET:		return sizeof(struct nmreq_port_hdr);
	case NETMAP_REQ_VALE_NEWIF:		return sizeof(struct nmreq_vale_newif);
	case NETMAP_REQ_VALE_DELIF:		return 0;
	case NETMAP_REQ_VALE_POLLING_ENABLE:
	case NETMAP_REQ_VALE_POLLING_DISABLE:	return sizeof(struct nmreq_vale_polling);
	case NETMAP_REQ_POOLS_INFO_GET:		return sizeof(struct nmreq_pools_info);
	case NETMAP_REQ_SYNC_KLOOP_START:	return sizeof(struct nmreq_sync_kloop_start);
	case NETMAP_REQ_SYNC_KLOOP_STOP:	return 0;
	case NETMAP_REQ_CSB_ENABLE:		return 0;
	case UNM_REQ_VALE_STATS:		return sizeof(struct unm_vale_stats);
	case UNM_REQ_VALE_MODULE:		return sizeof(struct unm_vale_module_req);
	case UNM_REQ_PORT_SEAL:			return sizeof(struct unm_port_seal);
	case UNM_REQ_GRANT:
	case UNM_REQ_REVOKE:			return sizeof(struct unm_grant);
	case UNM_REQ_VALE_VHOST:		return sizeof(struct unm_vale_vhost);
	case UNM_REQ_NIC_INFO:			return sizeof(struct unm_nic_info);
	case UNM_REQ_VETH_LINK:			return sizeof(struct unm_veth_link);
	case UNM_REQ_VXLAN_STATS:		return sizeof(struct unm_vxlan_stats);
	case UNM_REQ_MON_STATS:			return sizeof(struct unm_mon_stats);
	case UNM_REQ_MON_TARGETS:		return sizeof(struct unm_mon_targets);
	case UNM_REQ_VM_EXPORT:			return sizeof(struct unm_vm_export);
	case UNM_REQ_VM_UNEXPORT:		return sizeof(struct unm_vm_unexport);
	case UNM_REQ_VM_LIST:			return sizeof(struct unm_vm_list);
	default:				return -1;
	}
}

uint64_t unm_nmreq_opt_body_size(uint32_t t, uint64_t nro_size)
{
	const uint64_t h = sizeof(struct nmreq_option);

	switch (t) {
	case NETMAP_REQ_OPT_EXTMEM:	return sizeof(struct nmreq_opt_extmem) - h;
	case NETMAP_REQ_OPT_CSB:	return sizeof(struct nmreq_opt_csb) - h;
	case NETMAP_REQ_OPT_SYNC_KLOOP_MODE:
		return sizeof(struct nmreq_opt_sync_kloop_mode) - h;
	case NETMAP_REQ_OPT_OFFSETS:	return sizeof(struct nmreq_opt_offsets) - h;
	case NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS:
		return nro_size > h ? nro_size - h : 0;
	default:			return 0;
	}
}
