#!/usr/bin/env bash
# natlab: real NATs on one Linux machine, built from network namespaces, veth pairs and conntrack
# masquerading. Needs root, iproute2 and iptables (or nft).
#
#   scripts/natlab.sh up N     build a lab with N hosts   scripts/natlab.sh down   remove it
#   source scripts/natlab.sh   then natlab_up N / natlab_down / natlab_assert_ns NS
#
# Topology: namespace "pub" (10.99.0.1 on bridge br0) is the whole internet and runs the
# rendezvous server. NAT j has wan 10.99.0.(10+j) and a LAN bridge 192.168.j.1/24; host i
# ("h<i>") is 192.168.j.(10+i) behind NAT j, where j = i unless NL_NAT_OF_<i>=j.
#
# Knobs (environment):
#   NL_PREFIX=""             namespace name prefix, to run several labs side by side
#   NL_FW=iptables|nft       what programs the NAT routers (default iptables)
#   NL_NAT_MODE=preserve     mapping of every NAT: preserve (port-preserving, cone-like) |
#                            random (MASQUERADE --random-fully, symmetric-like)
#   NL_NAT_MODE_<j>=...      per-NAT override
#   NL_INBOUND=drop          unsolicited inbound on wan: drop | reject (answer TCP RST) | none
#   NL_INBOUND_<j>=...       per-NAT override
#   NL_NAT_OF_<i>=j          put host i behind NAT j (two hosts behind one NAT)
#
# Safety net (always installed first): blackhole routes for 10.99.0.0/16 and 192.168.0.0/16 in
# the root namespace, so a lab packet sent from the wrong namespace fails at once instead of
# leaving the machine. Programs in the lab must check their namespace (natlab_assert_ns).

NL_PREFIX=${NL_PREFIX:-}

_nl_ns() { printf '%s%s' "$NL_PREFIX" "$1"; }
_nl_sysctl() { local ns=$1; shift; ip netns exec "$ns" sysctl -q -w "$@" >/dev/null; }

natlab_safety_net() {
  ip route replace blackhole 10.99.0.0/16
  ip route replace blackhole 192.168.0.0/16
}

# Fails unless the calling process is in network namespace NS.
natlab_assert_ns() {
  local want have
  want=$(stat -L -c %i "/run/netns/$1") || return 1
  have=$(stat -L -c %i /proc/self/ns/net)
  [ "$want" = "$have" ] || { echo "natlab: not in namespace $1" >&2; return 1; }
}

natlab_down() {
  local ns pid i
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^${NL_PREFIX}(pub|nat[0-9]+|h[0-9]+)\$" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    for i in $(seq 1 20); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.1; done
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns"
  done
}

_nl_base_sysctls() { # ns forwarding(0|1); before any interface exists
  _nl_sysctl "$1" net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv4.ip_forward="$2" \
    net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

_nl_nat_rules() { # nat-ns mode inbound
  local ns=$1 mode=$2 inbound=$3 rnd="" nrnd=""
  [ "$mode" = random ] && { rnd="--random-fully"; nrnd="fully-random"; }
  if [ "${NL_FW:-iptables}" = nft ]; then
    local inrule=""
    case $inbound in
      drop)   inrule='iifname "wan" drop' ;;
      reject) inrule='iifname "wan" meta l4proto tcp reject with tcp reset
                      iifname "wan" drop' ;;
      none)   inrule='' ;;
    esac
    ip netns exec "$ns" nft -f - <<NFT
flush ruleset
table ip natlab {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "wan" ct state established,related accept
    $inrule
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state invalid drop
    iifname "lan" oifname "wan" accept
    iifname "lan" oifname "lan" accept
    iifname "wan" oifname "lan" ct state established,related accept
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" masquerade $nrnd
  }
}
NFT
  else
    local ipt="ip netns exec $ns iptables -w"
    $ipt -P FORWARD DROP
    # INVALID packets are not NATed: drop them rather than leak private source addresses.
    $ipt -A FORWARD -m conntrack --ctstate INVALID -j DROP
    $ipt -A FORWARD -i lan -o wan -j ACCEPT
    # Hosts on the same LAN talk to each other (bridged frames pass iptables: br_netfilter).
    $ipt -A FORWARD -i lan -o lan -j ACCEPT
    $ipt -A FORWARD -i wan -o lan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    # Unsolicited SYNs to the NAT's own wan address arrive in INPUT, not FORWARD.
    $ipt -A INPUT -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    case $inbound in
      drop)   $ipt -A INPUT -i wan -j DROP ;;
      reject) $ipt -A INPUT -i wan -p tcp -j REJECT --reject-with tcp-reset
              $ipt -A INPUT -i wan -j DROP ;;
      none)   ;;
    esac
    # shellcheck disable=SC2086
    $ipt -t nat -A POSTROUTING -o wan -j MASQUERADE $rnd
  fi
}

_nl_nat_of() { local v="NL_NAT_OF_$1"; echo "${!v:-$1}"; }

natlab_up() {
  local nhosts=${1:-2} i j pub nat h mode inbound var nats=""
  natlab_safety_net
  natlab_down
  pub=$(_nl_ns pub)
  ip netns add "$pub"
  _nl_base_sysctls "$pub" 0
  ip -n "$pub" link set lo up
  ip -n "$pub" link add br0 type bridge
  ip -n "$pub" addr add 10.99.0.1/24 dev br0
  ip -n "$pub" link set br0 up
  for i in $(seq 1 "$nhosts"); do
    j=$(_nl_nat_of "$i")
    nat=$(_nl_ns "nat$j")
    if ! ip netns list | awk '{print $1}' | grep -qx "$nat"; then
      ip netns add "$nat"
      _nl_base_sysctls "$nat" 1
      ip -n "$nat" link set lo up
      ip -n "$nat" link add wan type veth peer name "nat$j" netns "$pub"
      ip -n "$pub" link set "nat$j" master br0
      ip -n "$pub" link set "nat$j" up
      ip -n "$nat" addr add "10.99.0.$((10 + j))/24" dev wan
      ip -n "$nat" link set wan up
      ip -n "$nat" route add default via 10.99.0.1
      ip -n "$nat" link add lan type bridge
      ip -n "$nat" addr add "192.168.$j.1/24" dev lan
      ip -n "$nat" link set lan up
      var="NL_NAT_MODE_$j"; mode=${!var:-${NL_NAT_MODE:-preserve}}
      var="NL_INBOUND_$j"; inbound=${!var:-${NL_INBOUND:-drop}}
      _nl_nat_rules "$nat" "$mode" "$inbound"
      nats="$nats nat$j($mode,$inbound)"
    fi
    h=$(_nl_ns "h$i")
    ip netns add "$h"
    _nl_base_sysctls "$h" 0
    ip -n "$h" link set lo up
    ip -n "$nat" link add "h$i" type veth peer name eth0 netns "$h"
    ip -n "$nat" link set "h$i" master lan
    ip -n "$nat" link set "h$i" up
    ip -n "$h" addr add "192.168.$j.$((10 + i))/24" dev eth0
    ip -n "$h" link set eth0 up
    ip -n "$h" route add default via "192.168.$j.1"
  done
  echo "natlab: $nhosts hosts behind$nats; rendezvous address 10.99.0.1 in namespace $pub"
}

# Address of host i inside its LAN.
natlab_host_addr() { echo "192.168.$(_nl_nat_of "$1").$((10 + $1))"; }

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case ${1:-} in
    up)   natlab_up "${2:-2}" ;;
    down) natlab_down ;;
    *)    echo "usage: $0 up [N_HOSTS] | down" >&2; exit 2 ;;
  esac
fi
