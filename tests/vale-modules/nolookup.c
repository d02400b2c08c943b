/*
 * nolookup.c - a VALE module descriptor without a lookup function, which
 * netmapd must refuse (41_vale_module_contain).  Not an example.
 */
#include <unetmap/vale_module.h>

UNM_VALE_MODULE_EXPORT const struct unm_vale_module unm_vale_module = {
	UNM_VALE_MODULE_HEADER,
	.name = "nolookup",
};
