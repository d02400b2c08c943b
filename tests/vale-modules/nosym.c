/*
 * nosym.c - a shared object that exports no VALE module descriptor
 * (someone loads the wrong file), which netmapd must refuse
 * (41_vale_module_contain).  Not an example.
 */
int nosym_answer(void);

int nosym_answer(void)
{
	return 42;
}
