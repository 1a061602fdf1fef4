#!/bin/sh
# busybox udhcpc event script of the reference guest: address, default route, and the classless static
# routes of option 121 (neutron's route to 169.254.169.254 through its DHCP port).
case $1 in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for gateway in $router; do ip route replace default via "$gateway" dev "$interface"; break; done
    set -- $staticroutes
    while [ $# -ge 2 ]; do ip route replace "$1" via "$2" dev "$interface"; shift 2; done
    ;;
  deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
