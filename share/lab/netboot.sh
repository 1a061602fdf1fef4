#!/bin/sh
# The NIC's PXE ROM and iPXE, as far as the lab needs them; runs under busybox in the machine's RAM disk.
# Stage 1 (PXE ROM): DHCP as "PXEClient" (BIOS arch 0) -> TFTP the boot file from the offer (iPXE).
# Stage 2 (iPXE): DHCP again with iPXE's option 175 -> the HTTP boot script -> run it.
# Lab machines cannot execute a Linux kernel: `boot` runs what the kernel command line asks for
# (bootstrap.mode=discover: the discovery agent; bootstrap.mode=install: the preseeded installer).
# Exit: 0 boot the next device (disk), 10 reboot, 11 power off, 12 halt, other: network boot failed.
set -u
PATH=/bin
mac=$(cat /sys/class/net/eth0/address)
say() { echo "$1: $2"; }

dhcp() {
  rm -rf /run/dhcp && mkdir -p /run/dhcp
  udhcpc -i eth0 -f -q -n -t 5 -T 1 -V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000 "$@" -s /bin/dhcp-bound.sh >/dev/null 2>&1 && [ -s /run/dhcp/ip ]
}

setting() { cat "/run/dhcp/$1" 2>/dev/null; }

# An iPXE script: the subset of commands boot scripts use. ${mac} / ${net0/mac} expand to this NIC's MAC.
ipxe_script() {
  local url=$1 depth=$2 script=/tmp/script.$2 cmd rest kernel=''
  [ "$depth" -le 4 ] || { say iPXE "too many chained scripts"; return 1; }
  wget -q -O "$script" "$url" || { say iPXE "cannot fetch $url"; return 1; }
  read -r cmd < "$script"
  [ "$cmd" = '#!ipxe' ] || { say iPXE "$url is not an iPXE script"; return 1; }
  while read -r cmd rest; do
    rest=$(printf '%s' "$rest" | sed "s/\${mac}/$mac/g; s/\${net0\/mac}/$mac/g")
    case $cmd in
      '#'*|'') ;;
      echo) echo "$rest" ;;
      sleep) sleep "$rest" ;;
      chain) ipxe_script "$rest" $((depth + 1)); return $? ;;
      kernel) kernel=${rest#* } ;;
      initrd) ;;
      boot) boot_kernel "$kernel"; return $? ;;
      exit|sanboot) return 0 ;;
      *) say iPXE "unsupported command '$cmd'"; return 1 ;;
    esac
  done < "$script"
  say iPXE "script ended without booting"
  return 1
}

boot_kernel() {
  local word mode='' agent='' callback='' preseed=''
  for word in $1; do
    case $word in
      bootstrap.mode=*) mode=${word#*=} ;;
      bootstrap.agent=*) agent=${word#*=} ;;
      bootstrap.callback=*) callback=${word#*=} ;;
      url=*) preseed=${word#*=} ;;
    esac
  done
  case $mode in
    discover)
      say ramdisk "discovery: running the agent from $agent"
      if wget -q -O /tmp/agent.sh "$agent" && sh /tmp/agent.sh "$callback"; then say ramdisk "report delivered"; else say ramdisk "discovery agent failed"; fi
      return 11 ;;
    install)
      if sh /bin/installer.sh "$preseed"; then return 10; fi
      say installer "installation failed; the machine stays halted"
      return 12 ;;
    *) say ramdisk "kernel command line has no bootstrap.mode= this lab machine can run: $1"; return 12 ;;
  esac
}

dhcp || { say PXE "no DHCP offer on $mac"; exit 1; }
server=$(setting siaddr); file=$(setting boot_file)
say PXE "$mac got $(setting ip) from $(setting serverid), boot file '$file' from $server"
[ -n "$file" ] && [ -n "$server" ] || { say PXE "the offer names no boot file"; exit 1; }
tftp -g -r "$file" -l /tmp/nbp "$server" || { say PXE "TFTP $server:$file failed"; exit 1; }
say PXE "loaded $file ($(wc -c < /tmp/nbp) bytes) over TFTP"
# iPXE identifies itself with its feature option 175 and receives the HTTP boot script
dhcp -x 0xaf:b10101 || { say iPXE "no DHCP offer"; exit 1; }
url=$(setting boot_file)
case $url in http://*) ;; *) say iPXE "the offer names no HTTP boot script ('$url')"; exit 1 ;; esac
ipxe_script "$url" 0
