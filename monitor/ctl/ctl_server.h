/*
 * ctl_server.h: the VM's control socket in the monitor (vmm_ctl.h is the
 * protocol): one SOCK_SEQPACKET socket per VM at vm_ctl_socket_path(),
 * served in the event loop, carrying libvmmapi's commands and the debug
 * core's services for clients of the same user or root.
 *
 * Threads: the main thread only (set-up, event-loop callbacks, stop).
 */
#ifndef MONITOR_CTL_CTL_SERVER_H
#define MONITOR_CTL_CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct vitro;
struct ctl_server;

/*
 * Create the runtime directory and the socket for VM vm (whose debug core
 * is vm->core, if any) and serve it in vm->loop.  Call after the devices
 * are up and before the vCPUs run.  NULL with a message in err; *fatal is
 * set when vitro must not go on (another live process serves the name),
 * clear when it can go on without a control socket.
 */
struct ctl_server *ctl_server_start(struct vitro *vm, bool *fatal, char *err,
				    size_t errlen);

/*
 * Stop serving: remove the socket, answer what clients still asked with
 * -ESHUTDOWN, forward the events left (the VM's end), close every
 * connection (freeing its owner id and subscription) and free s.
 */
void ctl_server_stop(struct ctl_server *s);

#endif
