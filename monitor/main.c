/*
 * main.c: the vitro program (placeholder until the monitor lands).
 */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "vitro: not built yet\n");
	return 4;
}
