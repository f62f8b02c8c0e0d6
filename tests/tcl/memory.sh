#!/bin/bash
# memory.sh: guest memory backing (-m SIZE[,hugetlb][,nothp][,prealloc]
# [,mlock]), vCPU pinning (-p) and the halt probe's cost, on a real KVM.
# The backing vitro reports (vm info, vitroctl --get-memseg, -v) must be
# the one the kernel shows in vitro's /proc/self/smaps after the guest
# (memtouch.elf) wrote its memory; prealloc makes memory resident before
# the first instruction (checked from a -S script); -p pins each vCPU
# thread; a busy guest gets no halt-probe kicks where KVM has the
# statistics; bad input ends vitro with status 4 and a message that names
# the problem.
. "$(dirname "$0")/tcl-lib.bash"
tcl_init

MEM=72 # MiB: a size no other mapping of vitro has
MEMKB=$((MEM * 1024))
TOUCHED=$(((MEM - 16) * 1024)) # kB memtouch writes
GUEST=$GUESTS/memtouch.elf

# The smaps entry of guest memory: the mapping of exactly $MEM MiB (in
# vitro's own process from a -S script, else of the pid given).
cat >"$T/smaps.tcl" <<EOF
proc sysmem_smaps {{path /proc/self/smaps}} {
	set f [open \$path]
	set in 0
	set res {}
	while {[gets \$f line] >= 0} {
		if {[regexp {^([0-9a-f]+)-([0-9a-f]+) } \$line -> a b]} {
			set in [expr {"0x\$b" - "0x\$a" == $MEM * 1048576}]
			continue
		}
		if {\$in && [regexp {^(\w+):\s+(\d+) kB} \$line -> k v]} {
			dict set res \$k \$v
		}
	}
	close \$f
	return \$res
}
EOF
SMAPS=$(cat "$T/smaps.tcl")

vm_smaps() { # vm_smaps: OUT is the sysmem mapping's smaps of vitro $VPID
	printf '%s\nputs [sysmem_smaps /proc/%s/smaps]\n' "$SMAPS" "$VPID" \
		>"$T/vm_smaps.tcl"
	tclsh_run "$T/vm_smaps.tcl"
}

wait_touched() { # wait_touched: the guest said it wrote its memory
	for _ in $(seq 1 600); do
		grep -q "memtouch: touched" "$VOUT" 2>/dev/null && return 0
		kill -0 "$VPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# field NAME: from the smaps dict in $OUT
field() {
	printf '%s\n' "$OUT" | tr ' ' '\n' | awk -v k="$1" 'p { print; exit }
		$0 == k { p = 1 }'
}

# The backing this host should give by default (vmm_dev.h's order).
thp=$(sed -n 's/.*\[\(.*\)\].*/\1/p' \
	/sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
sthp=$(sed -n 's/.*\[\(.*\)\].*/\1/p' \
	/sys/kernel/mm/transparent_hugepage/shmem_enabled 2>/dev/null)
case $sthp in
always | within_size | advise | force) want=shmem-thp huge=ShmemPmdMapped ;;
*) case $thp in
	always | madvise) want=anon-thp huge=AnonHugePages ;;
	*) want=shmem huge= ;;
	esac ;;
esac

# 1. The default backing, reported and real.
VM_GUEST=$GUEST VM_ARGS="-c 1 -m $MEM -v" vm_start memdef
wait_touched
ok $? "memtouch wrote its memory" "$VOUT" "$VERR"
ctl_eval memdef 'dict get [vm info] backing'
is "$OUT" "$want" "vm info: the backing this host gives ($want)"
vm_smaps
rss=$(field Rss)
ok $((rss >= TOUCHED ? 0 : 1)) \
	"the guest's writes are resident in the sysmem mapping (Rss $rss kB)"
if [ -n "$huge" ]; then
	hv=$(field "$huge")
	ok $((hv >= 2048 ? 0 : 1)) "$want: $huge $hv kB after the guest's writes"
else
	is "$(field AnonHugePages)$(field ShmemPmdMapped)" "00" \
		"4 KiB pages: no huge mappings"
fi
like "$(cat "$VERR")" "guest memory: $MEM MiB, " \
	"-v says which backing the VM got"
"$VITROCTL" --vm=memdef --get-memseg >"$T/seg" 2>&1
like "$(cat "$T/seg")" "^0 +${MEM}M +$want +" \
	"vitroctl --get-memseg shows the backing"
vm_stop

# 2. nothp: 4 KiB pages whatever the host offers.
VM_GUEST=$GUEST VM_ARGS="-c 1 -m $MEM,nothp" vm_start memsmall
wait_touched
ctl_eval memsmall "list [dict get [vm info] backing] [dict get [vm info] page_size]"
is "$OUT" "shmem 4096" "nothp: a memfd of 4 KiB pages"
vm_smaps
is "$(field AnonHugePages):$(field ShmemPmdMapped)" "0:0" \
	"nothp: no huge page behind guest memory"
vm_stop

# 3. prealloc: resident before the guest's first instruction.
cat >"$T/rss.tcl" <<EOF
$SMAPS
puts "rss=[dict get [sysmem_smaps] Rss] locked=[dict get [sysmem_smaps] Locked]"
EOF
run_rss() { # run_rss MEMSPEC: the -S script's view, then the guest's run
	timeout -k 5 120 "$VITRO" --debug-exit -c 1 -m "$1" -k "$GUEST" \
		-a exit -S "$T/rss.tcl" -l "com1,file:$T/rss.console" \
		</dev/null >"$T/rss.out" 2>"$T/rss.err"
	ST=$?
	OUT=$(cat "$T/rss.out")
}
run_rss "$MEM,prealloc"
is "$ST" 33 "prealloc: the guest runs to its pass" "$T/rss.err"
like "$OUT" "^rss=$MEMKB " "prealloc: all $MEM MiB resident before the first instruction"
run_rss "$MEM"
r=$(printf '%s\n' "$OUT" | sed -n 's/^rss=\([0-9]*\).*/\1/p')
ok $((${r:-$MEMKB} < MEMKB / 2 ? 0 : 1)) \
	"without prealloc little is resident at the start (Rss ${r:-?} kB)"

# 4. mlock: locked in RAM; refused beyond RLIMIT_MEMLOCK without the
#    capability, with a message.
run_rss "$MEM,mlock"
is "$ST" 33 "mlock: the guest runs" "$T/rss.err"
like "$OUT" "locked=$MEMKB\$" "mlock: all $MEM MiB locked"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	(
		ulimit -l 1024
		exec setpriv --bounding-set=-ipc_lock --inh-caps=-ipc_lock \
			"$VITRO" -c 1 -m "$MEM,mlock" -k "$GUEST" -a exit \
			-l "com1,file:$T/ml.console" </dev/null >/dev/null \
			2>"$T/ml.err"
	)
	is "$?" 4 "mlock over RLIMIT_MEMLOCK: status 4"
	like "$(cat "$T/ml.err")" "over RLIMIT_MEMLOCK \(1024 KiB\).*ulimit -l" \
		"mlock over RLIMIT_MEMLOCK: the message names the limit and the fix"
else
	skip "needs root and setpriv" "mlock over RLIMIT_MEMLOCK: status 4"
	skip "needs root and setpriv" "mlock over RLIMIT_MEMLOCK: the message"
fi

# 5. hugetlb: refused without free pages; on them when the host has some.
HP=/sys/kernel/mm/hugepages/hugepages-2048kB
hp_free() { cat "$HP/free_hugepages" 2>/dev/null || echo 0; }
if [ "$(hp_free)" -lt $((MEM / 2)) ]; then
	"$VITRO" -c 1 -m "$MEM,hugetlb" -k "$GUEST" -a exit \
		-l "com1,file:$T/ht.console" </dev/null >/dev/null 2>"$T/ht.err"
	is "$?" 4 "hugetlb without enough free huge pages: status 4"
	like "$(cat "$T/ht.err")" "needs $((MEM / 2)) free 2 MiB huge pages.*nr_hugepages" \
		"hugetlb without huge pages: the message says how to reserve them"
else
	skip "the host has free huge pages" "hugetlb without huge pages: status 4"
	skip "the host has free huge pages" "hugetlb without huge pages: message"
fi
old_nr=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null)
if [ "$(id -u)" = 0 ] && [ -n "$old_nr" ] &&
	echo $((old_nr + MEM / 2)) >/proc/sys/vm/nr_hugepages 2>/dev/null &&
	[ "$(hp_free)" -ge $((MEM / 2)) ]; then
	VM_GUEST=$GUEST VM_ARGS="-c 1 -m $MEM,hugetlb" vm_start memhuge
	wait_touched
	ok $? "hugetlb: memtouch wrote its memory" "$VOUT" "$VERR"
	ctl_eval memhuge 'dict get [vm info] backing'
	is "$OUT" hugetlb "hugetlb: vm info says so"
	vm_smaps
	is "$(field KernelPageSize)" 2048 "hugetlb: 2 MiB pages in smaps"
	vm_stop
else
	for c in "memtouch wrote its memory" "vm info" "2 MiB pages"; do
		skip "cannot reserve $((MEM / 2)) huge pages here" "hugetlb: $c"
	done
fi
[ -n "$old_nr" ] && echo "$old_nr" >/proc/sys/vm/nr_hugepages 2>/dev/null

"$VITRO" -m 1536M,hugetlb=1G -k "$GUEST" </dev/null >/dev/null 2>"$T/g.err"
is "$?" 4 "hugetlb=1G with a size not a multiple of 1G: status 4"
like "$(cat "$T/g.err")" "multiple of 1G, the huge page size" \
	"hugetlb=1G with a bad size: the message"

# 6. -p: each vCPU thread runs on its host CPU only.
last=$(($(nproc) - 1))
VM_ARGS="-c 2 -m 64M -p 0:$last -p 1:0" vm_start pinned
aff() { # aff THREAD-NAME: its Cpus_allowed_list
	local t
	for t in /proc/"$VPID"/task/*; do
		[ "$(cat "$t/comm")" = "$1" ] || continue
		sed -n 's/^Cpus_allowed_list:\s*//p' "$t/status"
	done
}
is "$(aff 'vcpu 0')" "$last" "-p 0:$last: vCPU 0's thread runs on CPU $last only"
is "$(aff 'vcpu 1')" 0 "-p 1:0: vCPU 1's thread runs on CPU 0 only"
main_aff=$(sed -n 's/^Cpus_allowed_list:\s*//p' /proc/"$VPID"/status)
is "$main_aff" "$(sed -n 's/^Cpus_allowed_list:\s*//p' /proc/self/status)" \
	"-p leaves the other threads alone"

# 7. The halt probe does not interrupt a guest that runs (demo ticks).
"$VITROCTL" --vm=pinned --cpu=0 --get-stats >"$T/st0" 2>&1
sleep 2
"$VITROCTL" --vm=pinned --cpu=0 --get-stats >"$T/st1" 2>&1
if grep -q "kvm.blocking" "$T/st1" && grep -q "kvm.exits " "$T/st1"; then
	k0=$(awk '$1 == "vmm.kicks" { print $2 }' "$T/st0")
	k1=$(awk '$1 == "vmm.kicks" { print $2 }' "$T/st1")
	is "$((k1 - k0))" 0 "a running guest gets no halt-probe kick in 2 s"
else
	skip "KVM has no blocking/exits statistics: the probe kicks" \
		"a running guest gets no halt-probe kick"
fi
vm_stop

"$VITRO" -c 2 -p 0:1023 -k "$GUEST" </dev/null >/dev/null 2>"$T/p.err"
is "$?" 4 "-p to a host CPU vitro may not use: status 4"
like "$(cat "$T/p.err")" "host CPU 1023 is not one vitro may run on" \
	"-p to a missing host CPU: the message"
"$VITRO" -c 2 -p 2:0 -k "$GUEST" </dev/null >/dev/null 2>"$T/p.err"
is "$?" 4 "-p to a vCPU the VM lacks: status 4"
like "$(cat "$T/p.err")" "the VM has 2 vCPUs" "-p past the vCPUs: the message"

tcl_done
