#!/bin/sh
# lan_config_program for a lab BMC: what `ipmitool lan print` reports (fixed address and MAC).
#   <hook> <ip> <netmask> <mac> get|set|check <parameter>...
ip=$1; mask=$2; mac=$3; op=$4; shift 4
[ "$op" = get ] || exit 0
for item in "$@"; do
  case $item in
    ip_addr) echo "ip_addr:$ip";;
    ip_addr_src) echo "ip_addr_src:static";;
    mac_addr) echo "mac_addr:$mac";;
    subnet_mask) echo "subnet_mask:$mask";;
    default_gw_ip_addr|backup_gw_ip_addr) echo "$item:0.0.0.0";;
    default_gw_mac_addr|backup_gw_mac_addr) echo "$item:00:00:00:00:00:00";;
    *) echo "Invalid parameter: $item"; exit 1;;
  esac
done
exit 0
