#!/bin/sh
# busybox udhcpc event script for the discovery ramdisk: configure the lease, nothing else (no route, no DNS).
case $1 in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    ;;
  deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
