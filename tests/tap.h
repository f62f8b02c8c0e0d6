/*
 * tap.h: Test Anything Protocol output for vitro's C tests.
 *
 * Each test program prints a plan and one line per check; prove reads it.
 * Checks report the file, line and both values when they fail, as the KVM
 * selftests' TEST_ASSERT does, and the program goes on to the next check.
 * Header-only; one test program per process, single-threaded reporting
 * (checks from other threads must be serialised by the caller).
 */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_state {
	int planned; /* from tap_plan, or -1 for done_testing */
	int run; /* checks so far */
	int failed; /* of which failed */
};

static struct tap_state tap_state_ = { -1, 0, 0 };

static inline void tap_plan(int n)
{
	tap_state_.planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

/* The whole program cannot run: say why and exit successfully. */
static inline void tap_skip_all(const char *fmt, ...)
{
	va_list ap;

	printf("1..0 # skip ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(0);
}

static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline bool tap_ok_(bool cond, const char *file, int line,
			   const char *fmt, ...)
{
	va_list ap;

	tap_state_.run++;
	if (!cond)
		tap_state_.failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_state_.run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		printf("#   failed at %s:%d\n", file, line);
	fflush(stdout);
	return cond;
}

/* ok(cond, "name %d", ...) */
#define ok(cond, ...) tap_ok_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* is_int(got, expected, "name"): both printed on failure. */
#define is_int(got, exp, ...)                                                   \
	({                                                                      \
		long long g_ = (long long)(got), e_ = (long long)(exp);         \
		bool r_ = tap_ok_(g_ == e_, __FILE__, __LINE__, __VA_ARGS__);   \
		if (!r_)                                                        \
			printf("#   got %lld (%#llx), expected %lld (%#llx)\n", \
			       g_, (unsigned long long)g_, e_,                  \
			       (unsigned long long)e_);                         \
		r_;                                                             \
	})

#define is_hex(got, exp, ...)                                                 \
	({                                                                    \
		uint64_t g_ = (uint64_t)(got), e_ = (uint64_t)(exp);          \
		bool r_ = tap_ok_(g_ == e_, __FILE__, __LINE__, __VA_ARGS__); \
		if (!r_)                                                      \
			printf("#   got %#" PRIx64 ", expected %#" PRIx64     \
			       "\n",                                          \
			       g_, e_);                                       \
		r_;                                                           \
	})

#define is_str(got, exp, ...)                                                \
	({                                                                   \
		const char *g_ = (got), *e_ = (exp);                         \
		bool r_ = tap_ok_(g_ && e_ && strcmp(g_, e_) == 0, __FILE__, \
				  __LINE__, __VA_ARGS__);                    \
		if (!r_)                                                     \
			printf("#   got \"%s\", expected \"%s\"\n",          \
			       g_ ? g_ : "(null)", e_ ? e_ : "(null)");      \
		r_;                                                          \
	})

static inline bool tap_match_(const char *s, const char *re)
{
	regex_t rx;
	bool m;

	if (!s || regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	m = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return m;
}

/* like(text, "extended regex", "name"): the text shown on failure. */
#define like(got, re, ...)                                                    \
	({                                                                    \
		const char *g_ = (got), *e_ = (re);                           \
		bool r_ = tap_ok_(tap_match_(g_, e_), __FILE__, __LINE__,     \
				  __VA_ARGS__);                               \
		if (!r_)                                                      \
			printf("#   got:\n%.3000s\n#   expected a match of: " \
			       "%s\n",                                        \
			       g_ ? g_ : "(null)", e_);                       \
		r_;                                                           \
	})

/* A check that cannot run here, with the reason. */
static inline void tap_skip(const char *fmt, ...)
{
	va_list ap;

	tap_state_.run++;
	printf("ok %d # skip ", tap_state_.run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Fatal: the rest of the program cannot run (a failed setup step). */
#define tap_bail(...)                                            \
	do {                                                     \
		printf("Bail out! %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__);                             \
		printf("\n");                                    \
		exit(1);                                         \
	} while (0)

/* Print the trailing plan if none was given; exit status = failures. */
static inline int tap_done(void)
{
	if (tap_state_.planned < 0)
		printf("1..%d\n", tap_state_.run);
	else if (tap_state_.planned != tap_state_.run)
		printf("# planned %d checks, ran %d\n", tap_state_.planned,
		       tap_state_.run);
	fflush(stdout);
	return tap_state_.failed ? 1 : 0;
}

#endif
