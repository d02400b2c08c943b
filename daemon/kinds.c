/*
 * kinds.c - netmapd's port kinds, in the order they are asked whether
 * they claim a name.  Adding a kind is one folder and one line here.
 * Order matters where claims overlap: NR_REG_NULL wins over any name,
 * monitor flags over the name (as in netmap), a '{' or '}' makes a pipe even of a VALE port ("vale0:a{1"), and a name
 * nobody else claims is a network interface.
 */
#include "nmd.h"

static const struct nmd_port_ops *const kinds[] = {
	&nmd_null_ops,		/* NR_REG_NULL: netmap's null adapter */
	&nmd_monitor_ops,	/* NR_MONITOR_TX/RX, NR_ZCOPY_MON: a monitor
				 * of the port the name resolves to */
	&nmd_guest_ops,		/* in a guest: the ports its host exported,
				 * under their host names (x}1 too) */
	&nmd_pipe_ops,		/* NAME{ID, NAME}ID */
	&nmd_nullsink_ops,	/* null:NAME */
	&nmd_vhost_ops,		/* VM ports (valeX:Y): refused, not openable */
	&nmd_vxlan_ops,		/* vxlan:REMOTE:VNI[:PORT[:LPORT]] */
	&nmd_vale_ops,		/* valeX:Y, persistent VALE ports */
	&nmd_nic_ops,		/* anything else: netmap:IFNAME */
};

const struct nmd_port_ops *nmd_kind_of(const char *name, const struct nmreq_register *reg)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]) - 1; i++)
		if (kinds[i]->claims(name, reg))
			return kinds[i];
	return kinds[i];
}
