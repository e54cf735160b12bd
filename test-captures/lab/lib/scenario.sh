# scenario.sh: the life of one scenario (setup by the scenario file, then the
# common finish: stop captures, dump daemon and NAT state, stop everything,
# write captures + truth file into $OUT_DIR).

TOOLS=$WORKROOT/tools
XFRM_SHIM=$TOOLS/xfrm-shim.so
ESPINTCP_SHIM=$TOOLS/espintcp-shim.so
IKE_MANGLE=$TOOLS/ike-mangle
LIBIPSEC_PLUGIN=/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so
LIBIPSEC_HONEST=$TOOLS/libstrongswan-kernel-libipsec.so

tools_build() {
	mkdir -p "$TOOLS"
	gcc -O2 -Wall -shared -fPIC -o "$XFRM_SHIM" "$LAB_DIR/tools/xfrm-shim.c" -ldl \
		|| die "building xfrm-shim"
	gcc -O2 -Wall -shared -fPIC -o "$ESPINTCP_SHIM" "$LAB_DIR/tools/espintcp-shim.c" -ldl \
		|| die "building espintcp-shim"
	# kernel-libipsec that does not force encapsulation (honest NAT-D),
	# bind-mounted over the original in each charon's mount namespace
	python3 "$LAB_DIR/tools/libipsec-honest.py" "$LIBIPSEC_PLUGIN" "$LIBIPSEC_HONEST" >&2 \
		|| die "patching kernel-libipsec (tools/libipsec-honest.py)"
	if [ -f "$LAB_DIR/tools/ike-mangle.c" ]; then
		gcc -O2 -Wall -o "$IKE_MANGLE" "$LAB_DIR/tools/ike-mangle.c" -lnetfilter_queue -lmnl \
			|| die "building ike-mangle"
	fi
}

# ---------------------------------------------------------------- metadata
# One JSON object per line in $WORK/meta.jsonl; tools/truth.py assembles them.
meta() { jq -cn "$@" >>"$WORK/meta.jsonl"; }
meta_scenario() {   # meta_scenario DESCRIPTION
	meta --arg s "$SCEN" --arg d "$1" '{type:"scenario", scenario:$s, description:$d}'
}
# meta_capture ROLE NS IFACE: also starts the capture. A capture on the wan
# bridge (no NAT) also starts `tcpdump -i any` in the wan namespace (the box
# that forwards the traffic there: the wan-any shape).
meta_capture() {
	meta --arg r "$1" --arg i "$3" '{type:"capture", role:$r, iface:$i}'
	cap_start "$1" "$2" "$3"
	[ "$2" != wan ] || anycap_start wan wan-any
}
# meta_nat NAME KIND OUTSIDE_IP INSIDE_ROLE OUTSIDE_ROLE [NOTE]
meta_nat() {
	local lan
	lan=$(ip -n "$(ns "$1")" -4 -o addr show dev "$1-in" | awk '{print $4}' | head -1)
	meta --arg n "$1" --arg k "$2" --arg o "$3" --arg i "$4" --arg x "$5" --arg note "${6:-}" --arg lan "$lan" \
		'{type:"nat", name:$n, kind:$k, outside_ip:$o, inside_capture:$i, outside_capture:$x, note:$note, inside_net:$lan}'
	ct_watch "$1"
	anycap_start "$1" nat-any     # `tcpdump -i any` on the router (nat-any shape)
}
# meta_path ROLE [NAT ROLE]...: captures and NATs from the initiators' side
# to the responders' side
meta_path() { meta --arg p "$*" '{type:"path", path:($p|split(" "))}'; }
# meta_daemon NAME IMPL SIDE(left|right) ROLE(initiator|responder)
meta_daemon() {
	meta --arg n "$1" --arg i "$2" --arg s "$3" --arg r "$4" \
		'{type:"daemon", name:$n, impl:$i, side:$s, role:$r}'
}
# meta_fault KIND CAPTURE_ROLE DESCRIPTION TSHARK_FILTER [DETAIL] [TIME_FROM]
#   frames = the frames of CAPTURE matching FILTER (stock tshark), after
#   TIME_FROM (epoch seconds) when given
#   [TWIN_CAPTURE TWIN_FILTER]: the same packets on the other side of the NAT
meta_fault() {
	meta --arg k "$1" --arg c "$2" --arg d "$3" --arg f "$4" --arg x "${5:-}" --arg t "${6:-}" \
		--arg tc "${7:-}" --arg tf "${8:-}" \
		'{type:"fault", kind:$k, capture:$c, description:$d, filter:$f, detail:$x, after:$t, twin_capture:$tc, twin_filter:$tf}'
}
meta_note() { meta --arg n "$1" '{type:"note", note:$n}'; }
now() { date +%s.%N; }

# ---------------------------------------------------------------- helpers
# sw_wait_children NAME N TIMEOUT: until NAME has N installed CHILD_SAs
sw_wait_children() {
	local name=$1 n=$2 t=${3:-15} i host; host=$(cat "$WORK/sw/$1/host")
	for i in $(seq $((t * 5))); do
		[ "$(swanctl_ "$name" "$host" --list-sas 2>/dev/null | grep -c INSTALLED)" -ge "$n" ] && return 0
		sleep 0.2
	done
	log "warning: $name has not $n CHILD_SAs after ${t}s"
	return 1
}
ping_() {   # ping_ HOST DEST [COUNT]
	nsx "$1" ping -n -q -c "${3:-3}" -i 0.4 -W 1 "$2" >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- main
scenario_main() {
	local f=$1
	SCEN=$(basename "$f" .sh)
	WORK=$WORKROOT/$SCEN
	mkdir -p "$WORK"
	CAP_ROLES=""; ANY_BOXES=""; WAN_PORT=0
	trap 'rc=$?; set +e; stop_all; netns_del_all; exit $rc' EXIT
	. "$f"
	scenario          # defined by the scenario file
	scenario_finish
}

scenario_finish() {
	local r name
	if [ -n "${LAB_HOLD:-}" ]; then log "holding ${LAB_HOLD}s (LAB_HOLD), namespaces prefix nl$RUN_ID-"; sleep "$LAB_HOLD"; fi
	cap_stop_all
	for r in $(jq -r 'select(.type=="nat").name' "$WORK/meta.jsonl"); do
		ct_dump "$r" final
	done
	# final daemon state of everyone first, then stop them
	for name in $(ls "$WORK/sw" 2>/dev/null); do sw_snapshot "$name"; done
	for name in $(ls "$WORK/ls" 2>/dev/null); do ls_snapshot "$name"; done
	for name in $(ls "$WORK/sw" 2>/dev/null); do sw_stop "$name"; done
	for name in $(ls "$WORK/ls" 2>/dev/null); do ls_stop "$name"; done
	stop_all
	netns_del_all
	# captures: pcapng (named interfaces) -> classic pcap per side, merged
	# pcapng per NAT
	local out=$WORK/out
	mkdir -p "$out"
	for r in $CAP_ROLES; do
		editcap -F pcap "$WORK/cap/$r.pcapng" "$out/$SCEN.$r.pcap"
	done
	local nats; nats=$(jq -r 'select(.type=="nat").name' "$WORK/meta.jsonl" | wc -l)
	jq -r 'select(.type=="nat") | "\(.name) \(.inside_capture) \(.outside_capture)"' "$WORK/meta.jsonl" |
	while read -r name i o; do
		local b="$SCEN"
		[ "$nats" -gt 1 ] && b="$SCEN.$name"
		mergecap -F pcapng -w "$out/$b.merged.pcapng" "$WORK/cap/$i.pcapng" "$WORK/cap/$o.pcapng"
		# shape "merged-default": mergecap's default options on the two
		# classic pcap files (identical interface descriptions, so mergecap
		# 4.0 merges them into ONE interface: nothing tells the side)
		mergecap -w "$out/$b.merged-default.pcapng" "$out/$SCEN.$i.pcap" "$out/$SCEN.$o.pcap"
	done
	# shapes "nat-any" / "wan-any": the router's (or wan bridge's) tcpdump -i any
	local box shape
	jq -r 'select(.type=="anycap") | "\(.box) \(.shape)"' "$WORK/meta.jsonl" |
	while read -r box shape; do
		local b="$SCEN"
		[ "$shape" = nat-any ] && [ "$nats" -gt 1 ] && b="$SCEN.$box"
		cp "$WORK/any/$box.pcap" "$out/$b.$shape.pcap"
	done
	python3 "$LAB_DIR/tools/truth.py" "$WORK" "$out" || die "truth.py failed for $SCEN"
	rm -f "$OUT_DIR/$SCEN".*
	cp "$out"/* "$OUT_DIR/"
	rm -rf "$LAB_DIR/keys/$SCEN"
	mkdir -p "$LAB_DIR/keys/$SCEN"
	cp "$WORK/keys"/* "$LAB_DIR/keys/$SCEN/" 2>/dev/null || true
	log "$SCEN: $(cd "$OUT_DIR" && ls "$SCEN".* | tr '\n' ' ')"
}
