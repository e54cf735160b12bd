# sw-templates.sh: swanctl.conf snippets shared by the scenarios.
PSK="natt-lab-secret"

# sw_client_v1 NAME LOCAL_ADDR REMOTE_ADDR [opts]: IKEv1 PSK client, tunnel
# from its own address to the server's protected subnet.
#   opts (env): MODE=main|aggressive  DPD=10s  REKEY=0  LIFE=  LPORT= RPORT=
#               LOCAL_TS=dynamic  VERSION=1
sw_client() {
	local name=$1 laddr=$2 raddr=$3
	local aggr=no; [ "${MODE:-main}" = aggressive ] && aggr=yes
	sw_swanctl "$name" <<CONF
connections {
	lab {
		version = ${VERSION:-1}
		aggressive = $aggr
		local_addrs = $laddr
		remote_addrs = $raddr
		${LPORT:+local_port = $LPORT}
		${RPORT:+remote_port = $RPORT}
		proposals = ${IKE_PROPOSAL:-aes128-sha1-modp2048}
		dpd_delay = ${DPD:-10s}
		rekey_time = ${IKE_REKEY:-4h}
		${MOBIKE:+mobike = $MOBIKE}
		${FRAG:+fragmentation = $FRAG}
		${SEND_CERT:+send_cert = $SEND_CERT}
		keyingtries = ${KEYINGTRIES:-1}
		local {
			auth = ${AUTH:-psk}
			id = $name.natt.lab
			${LCERT:+certs = $LCERT}
		}
		remote {
			auth = ${AUTH:-psk}
			id = ${REMOTE_ID:-server.natt.lab}
		}
		children {
			lab {
				mode = tunnel
				local_ts = ${LOCAL_TS:-dynamic}
				remote_ts = ${REMOTE_TS:-192.168.200.0/24}
				esp_proposals = ${ESP_PROPOSAL:-aes128-sha1}
				rekey_time = ${REKEY:-1h}
				${LIFE:+life_time = $LIFE}
				dpd_action = ${DPD_ACTION:-clear}
			}
		}
	}
}
secrets {
	ike-lab { secret = "$PSK" }
}
CONF
}

# sw_server NAME LOCAL_ADDR [opts]: responder for any client
sw_server() {
	local name=$1 laddr=$2
	local aggr=no; [ "${MODE:-main}" = aggressive ] && aggr=yes
	sw_swanctl "$name" <<CONF
connections {
	lab {
		version = ${VERSION:-1}
		aggressive = $aggr
		local_addrs = $laddr
		${LPORT:+local_port = $LPORT}
		proposals = ${IKE_PROPOSAL:-aes128-sha1-modp2048}
		dpd_delay = ${DPD:-10s}
		rekey_time = ${IKE_REKEY:-4h}
		${MOBIKE:+mobike = $MOBIKE}
		${FRAG:+fragmentation = $FRAG}
		${SEND_CERT:+send_cert = $SEND_CERT}
		local {
			auth = ${AUTH:-psk}
			id = server.natt.lab
			${LCERT:+certs = $LCERT}
		}
		remote {
			auth = ${AUTH:-psk}
		}
		children {
			lab {
				mode = tunnel
				local_ts = 192.168.200.0/24
				remote_ts = 10.0.0.0/8, 198.51.100.0/24, 203.0.113.0/24
				esp_proposals = ${ESP_PROPOSAL:-aes128-sha1}
				rekey_time = ${REKEY:-1h}
				${LIFE:+life_time = $LIFE}
				dpd_action = clear
			}
		}
	}
}
secrets {
	ike-lab { secret = "$PSK" }
}
CONF
}

# sw_rsa_certs NAME:CN...: a CA and one 4096-bit RSA certificate per
# instance (strongSwan pki), installed into each instance's swanctl folder
# (configure the instances first: AUTH=pubkey LCERT=NAME.crt).
sw_rsa_certs() {
	local pk=$WORK/pki h
	mkdir -p "$pk"
	pki --gen --type rsa --size 4096 --outform pem >"$pk/ca.key" 2>/dev/null
	pki --self --ca --lifetime 30 --in "$pk/ca.key" --dn "CN=natt lab CA" --outform pem >"$pk/ca.crt" 2>/dev/null
	for h in "$@"; do
		pki --gen --type rsa --size 4096 --outform pem >"$pk/${h%%:*}.key" 2>/dev/null
		pki --pub --in "$pk/${h%%:*}.key" 2>/dev/null | pki --issue --cacert "$pk/ca.crt" --cakey "$pk/ca.key" \
			--lifetime 30 --dn "CN=${h#*:}.natt.lab" --san "${h#*:}.natt.lab" --outform pem >"$pk/${h%%:*}.crt" 2>/dev/null
		cp "$pk/ca.crt" "$WORK/sw/${h%%:*}/swanctl/x509ca/"
		cp "$pk/${h%%:*}.crt" "$WORK/sw/${h%%:*}/swanctl/x509/"
		cp "$pk/${h%%:*}.key" "$WORK/sw/${h%%:*}/swanctl/private/"
	done
}
