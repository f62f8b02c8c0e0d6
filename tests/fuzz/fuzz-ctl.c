/*
 * fuzz-ctl.c: libFuzzer target for the control socket's request decoder
 * and execution (monitor/ctl/ctl_proto.c) against the fake VM of
 * tests/unit/ctl_fake.h.
 *
 * Input: the first byte gives the vCPU count (bits 0-1: 1 to 4) and which
 * of them run at the start (bits 4-7); then messages, each a 16-bit
 * little-endian length (masked to 14 bits, so some exceed
 * VM_CTL_MSG_MAX) and that many bytes (what is missing reads as zeros).
 *
 * Besides crashes and sanitizer reports it aborts when the server's
 * contract breaks: a refused or in-process command carried out, a
 * command on the state of a vCPU that runs, a debug-core call without an
 * owner or with a vCPU out of range, a stop that waits longer than
 * VM_CTL_STOP_MAX_MS, a vCPU left stopped by a state command, an error
 * that is not negative, or an error reply that is not a header.
 *
 * Threads: one.  No state survives between inputs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/ctl/ctl_proto.h"
#include "tests/unit/ctl_fake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static union {
	uint8_t b[16384];
	uint64_t align;
} msg, arg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_fake f = { 0 };
	size_t off = 1;

	if (size < 1)
		return 0;
	f.ncpus = (data[0] & 3) + 1;
	for (unsigned int i = 0; i < f.ncpus; i++)
		f.state[i] = data[0] & (0x10 << i) ? VM_DBG_CPU_GUEST :
						     VM_DBG_CPU_PARKED;
	while (off + 2 <= size) {
		size_t len = (data[off] | data[off + 1] << 8) & 0x3fff;
		size_t have = size - off - 2 < len ? size - off - 2 : len;
		struct ctl_request req;
		uint8_t before[4];
		uint8_t reply[64];
		int owner, r;

		memset(msg.b, 0, sizeof(msg.b));
		memcpy(msg.b, data + off + 2, have);
		off += 2 + have;
		/* The decoder never reads past VM_CTL_MSG_MAX + 1 bytes. */
		r = ctl_request_decode(msg.b, len, f.ncpus, &req);
		if (r > 0)
			abort();
		if (r < 0) {
			if (ctl_error_reply(&req, r, reply) !=
			    sizeof(struct vm_ctl_hdr))
				abort();
			continue;
		}
		if (!req.cmd || len != sizeof(struct vm_ctl_hdr) +
						VMM_CMD_SIZE(req.hdr.cmd))
			abort();
		if (req.cmd->policy == CTL_HELLO ||
		    req.cmd->policy == CTL_SUBSCRIBE)
			continue;
		memcpy(arg.b, req.arg, VMM_CMD_SIZE(req.hdr.cmd));
		memcpy(before, f.state, sizeof(before));
		/* Sometimes no owner id could be had. */
		owner = req.hdr.seq & 1 ? -1 : (int)(req.hdr.seq % 64);
		f.stop_result = req.hdr.seq & 2 ? -ETIMEDOUT : 0;
		r = ctl_execute(&ctl_fake_ops, &f, owner, &req, arg.b);
		if (r > 0 || f.breaches)
			abort();
		if (req.cmd->policy == CTL_CPU &&
		    memcmp(before, f.state, sizeof(before)))
			abort();
		if (req.cmd->policy == CTL_STOP && r == 0 && owner >= 0 &&
		    req.hdr.seq & 2 && req.hdr.cmd == VM_DBG_STOP)
			abort(); /* a stop that timed out said it did not */
	}
	return 0;
}
