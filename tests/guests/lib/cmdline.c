/*
 * cmdline.c: key=value options from the kernel command line, and the
 * memory size from the Multiboot memory map.
 *
 * No state: every call scans the string it is given.
 */
#include "rt.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The value of `key` in cmdline: *len bytes at the result; NULL if absent,
 * and *len is -1 for a bare key (no '='). */
static const char *find(const char *cmdline, const char *key, int *len)
{
	size_t klen = strlen(key);
	const char *p = cmdline, *w;

	while (*p) {
		while (is_space(*p))
			p++;
		w = p;
		while (*p && !is_space(*p))
			p++;
		if ((size_t)(p - w) < klen || strncmp(w, key, klen))
			continue;
		if (w + klen == p) {
			*len = -1;
			return p;
		}
		if (w[klen] == '=') {
			*len = (int)(p - (w + klen + 1));
			return w + klen + 1;
		}
	}
	return NULL;
}

int cmdline_get(const char *cmdline, const char *key, char *buf, size_t size)
{
	int len;
	const char *v = find(cmdline, key, &len);
	size_t n;

	if (!v)
		return -1;
	if (len < 0)
		len = 0;
	if (size) {
		n = (size_t)len < size - 1 ? (size_t)len : size - 1;
		memcpy(buf, v, n);
		buf[n] = '\0';
	}
	return len;
}

bool cmdline_has(const char *cmdline, const char *key)
{
	int len;

	return find(cmdline, key, &len) != NULL;
}

bool str_to_u64(const char *s, size_t len, uint64_t *val)
{
	uint64_t v = 0, d, base = 10;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		if (v >> 59) /* no 64-bit division in 32-bit guests */
			return false;
		v = v * base + d;
	}
	if (i + 1 == len) {
		int shift = 0;

		switch (s[i]) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		default:
			return false;
		}
		if (v >> (64 - shift))
			return false;
		v <<= shift;
	} else if (i != len) {
		return false;
	}
	*val = v;
	return true;
}

int cmdline_get_u64(const char *cmdline, const char *key, uint64_t *val)
{
	int len;
	const char *v = find(cmdline, key, &len);

	if (!v)
		return 0;
	if (len <= 0 || !str_to_u64(v, (size_t)len, val))
		return -1;
	return 1;
}

uint64_t mb_memory_size(const struct mb_info *mbi)
{
	uintptr_t p, end;
	uint64_t total = 1 << 20;

	if (!mbi || !(mbi->flags & MB_INFO_MEM_MAP))
		return 0;
	p = mbi->mmap_addr;
	end = p + mbi->mmap_length;
	while (p + sizeof(struct mb_mmap_entry) <= end) {
		const struct mb_mmap_entry *e = (const void *)p;

		if (e->type == MB_MEMORY_AVAILABLE && e->addr >= (1 << 20))
			total += e->len;
		p += e->size + 4;
	}
	return total;
}
