#!/bin/busybox sh
# PID 1 of the benchmark VM. Everything lives in the initramfs (no block devices, no
# modules); as root here the open-file limit and port range can be raised, which the
# host's sandbox does not allow.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin HOME=/tmp
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
ip link set lo up
# 36,000 connections from 3 source addresses and the agent's upstream side need ports;
# the listen backlog must take a whole batch of connects at once.
sysctl -q -w net.ipv4.ip_local_port_range="1024 65535"
sysctl -q -w net.core.somaxconn=65535
sysctl -q -w net.ipv4.tcp_max_syn_backlog=65535
sysctl -q -w fs.file-max=2000000
ulimit -n 200000
cd /fulcrum
node --import file:///fulcrum/agent/node_modules/tsx/dist/loader.mjs /fulcrum/bench/vm/guest/measure.ts /fulcrum/plan.json
rc=$?
[ "$rc" = 0 ] || echo "FULCRUM-VM-ERROR the guest harness exited with status $rc"
poweroff -f
