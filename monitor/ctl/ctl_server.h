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
 * is vm->dbg, if any) and serve it in vm->loop.  Call after the devices
 * are up and before the vCPUs run.  The server is returned even when its
 * socket could not be made (local connections still work): err is then
 * a message saying why, and empty when the socket is served.  NULL with
 * *fatal set and a message in err when vitro must not go on (another
 * live process serves the name, or no memory).
 */
struct ctl_server *ctl_server_start(struct vitro *vm, bool *fatal, char *err,
				    size_t errlen);

/*
 * A connection without a socket, for the console inside vitro: a handle
 * (vm_open_transport) with exactly a socket client's semantics - its own
 * owner id in the debug core (named "console"), its own subscription, the
 * same checks and policy - whose calls run directly on the calling
 * thread, which must be the main thread.  vm_event_fd is an fd readable
 * while subscribed events wait; vm_event_next with a timeout waits on it
 * (holding the event loop, as a socket request's bounded waits do; a
 * signal that ends vitro still ends the VM meanwhile).  vm_destroy closes
 * it, also after ctl_server_stop, which leaves such handles failing with
 * -ECONNRESET.  NULL with errno set.
 */
struct vmctx *ctl_server_open_local(struct ctl_server *s);

/*
 * Stop serving: remove the socket, answer what clients still asked with
 * -ESHUTDOWN, forward the events left (the VM's end), close every
 * connection (freeing its owner id and subscription) and free s.
 */
void ctl_server_stop(struct ctl_server *s);

#endif
