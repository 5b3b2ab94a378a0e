#!/usr/bin/env bash
# Runs the sandbox's tests on a cgroup v2-only kernel, in a throwaway VM:
# Debian's kernel (linux-image-amd64) under qemu (software emulation when
# there is no /dev/kvm, so slowly), booted with cgroup v1 disabled, and an
# initramfs built here: a small Go init of our own (scripts/vm/init), the
# sandbox's test binary, the hostile test program and the kernel modules the
# sandbox needs. The init runs the tests four times: as root in a service
# cgroup (the sandbox's cgroups go to the top, /sys/fs/cgroup/playdoc), as
# uid 65534 and as root in a cgroup delegated to them (systemd's
# Delegate=yes), and as root in a container's cgroup namespace (its own
# cgroup is the root of its /sys/fs/cgroup, as in a Kubernetes pod); in the
# last three the sandbox must keep its cgroups inside the one it was given.
#
#   scripts/cgroup-v2-vm.sh            # all the sandbox tests that need no go command
#   VM_TESTS='^TestCPULimit$' scripts/cgroup-v2-vm.sh
#
# Environment: VM_TESTS and VM_USER_TESTS (-test.run patterns of the root
# and the non-root run), VM_TIMEOUT
# (seconds for one boot, default 3600), VM_STALL (seconds of a silent
# console that count as a stalled machine, default 300), VM_RETRIES (boots
# again after a stall, default 1), VM_ACCEL (qemu's -accel:
# default kvm when /dev/kvm is writable, else tcg), VM_CPUS (default 2), VM_MEM
# (MiB, default 2048), VM_KEEP=1 keeps the work folder. The console log is
# left in $VM_LOG (default .cache/cgroup-v2-vm.log). Exits 0 only if every run
# passed.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v qemu-system-x86_64 >/dev/null || ! command -v cpio >/dev/null || ! command -v jq >/dev/null || ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
	echo "== installing qemu-system-x86, linux-image-amd64, cpio and jq"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 linux-image-amd64 cpio jq >/dev/null
fi

kernel=$(ls /boot/vmlinuz-* | sort -V | tail -1)
kver=${kernel#/boot/vmlinuz-}
moddir=/lib/modules/$kver
[ -d "$moddir" ] || { echo "no $moddir for $kernel" >&2; exit 1; }

work=$(mktemp -d)
[ "${VM_KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/bin" "$root/etc"
mkdir -p .cache
log=${VM_LOG:-$PWD/.cache/cgroup-v2-vm.log}

echo "== building the VM's init, the sandbox tests and the hostile program (static)"
export CGO_ENABLED=0
go build -trimpath -o "$root/init" ./scripts/vm/init
go test -c -trimpath -o "$root/bin/sandbox.test" ./sandbox
go build -trimpath -o "$root/bin/hostile" ./sandbox/testdata/hostile

# Kernel modules for what the sandbox mounts (overlayfs, modular in
# Debian's kernel), dependencies first, as modules.dep lists them.
modules=()
add_module() { # path relative to $moddir
	local rel=$1 dep
	for m in "${modules[@]}"; do [ "$m" = "/lib/modules/$kver/$rel" ] && return; done
	for dep in $(awk -v m="$rel:" '$1 == m { $1 = ""; print }' "$moddir/modules.dep"); do
		add_module "$dep"
	done
	mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
	cp "$moddir/$rel" "$root/lib/modules/$kver/$rel"
	modules+=("/lib/modules/$kver/$rel")
}
for name in overlay; do
	rel=$(awk -F: -v n="$name" '{ f = $1; sub(/.*\//, "", f); sub(/\.ko(\..*)?$/, "", f) } f == n { print $1; exit }' "$moddir/modules.dep")
	# Built in (not in modules.dep): nothing to load.
	if [ -n "$rel" ]; then add_module "$rel"; fi
done

# The root run has every test that needs neither the go command
# (TestGoBuildInside, TestInitBinary) nor millisecond timing
# (TestFiguresAreTheProgramsOwn compares CPU times within a few ms; under
# emulation five runs of a hello world took 85-490 ms); the other runs have the limits and
# leftovers tests (the helpers of TestWithoutRoot and
# TestRefusesWithoutNamespaces set their credentials, which only root may).
root_tests=${VM_TESTS:-.}
user_tests=${VM_USER_TESTS:-'^(TestHostFeaturesProbe|TestTotalsCPUWeight|TestForkBombContained|TestMemoryBombContained|TestCPULimit|TestThreadsBounded|TestWallTimeout|TestKillSleeper|TestNothingLeftBehind|TestCrashedServerLeavesNothing|TestRunsCannotSeeEachOther)$'}
modules_json=$(printf '%s\n' "${modules[@]}" | jq -R . | jq -s .)
env_json='["PATH=/bin", "HOME=/tmp", "TMPDIR=/tmp", "PLAYDOC_SANDBOX_HOSTILE=/bin/hostile", "PLAYDOC_SANDBOX_WANT_CGROUP=v2"]'
jq -n --argjson modules "$modules_json" --argjson env "$env_json" \
	--arg root_tests "$root_tests" --arg user_tests "$user_tests" '{
	Modules: $modules,
	Runs: [
		{Name: "root", Cgroup: "system.slice/playdoc-test.service", Timeout: "11m", Env: $env,
		 Argv: ["/bin/sandbox.test", "-test.v", "-test.count=1", "-test.timeout=10m",
		        "-test.run", $root_tests, "-test.skip", "^(TestGoBuildInside|TestInitBinary|TestFiguresAreTheProgramsOwn)$"]},
		{Name: "delegated-uid-65534", UID: 65534, Delegate: true, Inside: true, Cgroup: "system.slice/playdoc-user.service", Timeout: "6m", Env: $env,
		 Argv: ["/bin/sandbox.test", "-test.v", "-test.count=1", "-test.timeout=5m", "-test.run", $user_tests]},
		{Name: "delegated-root", Delegate: true, Inside: true, Cgroup: "system.slice/playdoc-delegated.service", Timeout: "6m", Env: $env,
		 Argv: ["/bin/sandbox.test", "-test.v", "-test.count=1", "-test.timeout=5m", "-test.run", $user_tests]},
		{Name: "container-root", Container: true, Inside: true, Cgroup: "system.slice/playdoc-container.scope", Timeout: "6m", Env: $env,
		 Argv: ["/bin/sandbox.test", "-test.v", "-test.count=1", "-test.timeout=5m", "-test.run", $user_tests]}
	]}' >"$root/etc/vminit.json"

(cd "$root" && find . | cpio -o -H newc --quiet) >"$work/initramfs.cpio"
# Some distributions keep the kernel image readable by root only.
boot=$kernel
if [ ! -r "$boot" ]; then
	boot=$work/vmlinuz
	as_root cat "$kernel" >"$boot"
fi

# VM_ACCEL=tcg forces software emulation: nested KVM on some cloud VMs
# spins without ever booting (seen on this project's CI machine, where
# the whole TCG run takes about a minute).
accel=${VM_ACCEL:-tcg,thread=multi}
if [ -z "${VM_ACCEL:-}" ] && [ -w /dev/kvm ]; then accel=kvm; fi
# boot runs the VM once, its console in $log, with a watchdog: the VM's init
# prints a heartbeat every 30 s during a run (a hung test ends by its own
# -test.timeout and fails), so a console silent for VM_STALL seconds means
# the emulated machine itself stopped, and the boot is counted as stalled
# (exit 125), not as a test result. (Once, in CI, the console went silent
# for 28 minutes in the middle of a quick test; before the heartbeat a
# stopped machine and a hung test looked the same.)
boot() {
	echo "== booting $kernel ($accel) with cgroup v2 only; console in $log"
	: >"$log"
	timeout "${VM_TIMEOUT:-3600}" qemu-system-x86_64 \
		-accel "$accel" -cpu max -smp "${VM_CPUS:-2}" -m "${VM_MEM:-2048}" \
		-nodefaults -display none -serial stdio -no-reboot \
		-kernel "$boot" -initrd "$work/initramfs.cpio" \
		-append "console=ttyS0 panic=-1 quiet no_timer_check systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all" \
		</dev/null >"$log" 2>&1 &
	local pid=$! size=-1 quiet=0 now
	tail -n +1 -f --pid="$pid" "$log" &
	local tailpid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		now=$(stat -c %s "$log")
		if [ "$now" != "$size" ]; then size=$now quiet=0; else quiet=$((quiet + 5)); fi
		if [ "$quiet" -ge "${VM_STALL:-300}" ]; then
			echo "== the VM printed nothing for ${quiet}s: stalled; stopping it"
			kill "$pid" 2>/dev/null || true # timeout passes it on to qemu
			for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
			pkill -KILL -P "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			wait "$tailpid" 2>/dev/null || true
			return 125
		fi
	done
	local rc=0
	wait "$pid" || rc=$?
	wait "$tailpid" 2>/dev/null || true
	return "$rc"
}

start=$(date +%s)
tries=0
while :; do
	tries=$((tries + 1))
	qemu=0
	boot || qemu=$?
	# Only a stalled machine is booted again (VM_RETRIES times): a failed
	# or hung test is a result.
	if [ "$qemu" = 125 ] && [ "$tries" -le "${VM_RETRIES:-1}" ]; then
		cp "$log" "$log.stalled-$tries"
		echo "== booting again (stalled console kept in $log.stalled-$tries)"
		continue
	fi
	break
done
wall=$(($(date +%s) - start))

echo "== summary ($kernel, ${wall}s, $tries boot(s), qemu exit $qemu)"
grep -aE '^(vminit: (result|kernel|loaded|cgroup2|cgroups after|container:|FAILED|all passed)|--- (FAIL|PASS|SKIP)|sandbox tests: host)' "$log" | tr -d '\r' || true
if [ "$qemu" != 0 ] || ! grep -aq '^vminit: all passed' "$log" || grep -aq -- '--- FAIL' "$log"; then
	echo "FAIL: cgroup v2 VM run" >&2
	exit 1
fi
echo "ok: cgroup v2 VM run"
