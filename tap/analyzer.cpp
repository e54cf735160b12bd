#include "analyzer.h"

namespace natt {

PairRole Analyzer::role(const Endpoint& a, const Endpoint& b) const {
    auto it = pairs_.find(PortPair(a, b));
    return it == pairs_.end() ? PairRole::Unknown : it->second;
}

void Analyzer::learn(const Endpoint& a, const Endpoint& b, PairRole r) {
    if (r == PairRole::Unknown) return;
    PairRole& cur = pairs_[PortPair(a, b)];
    if (cur != PairRole::Natt) cur = r;
}

void Analyzer::clear() {
    pairs_.clear();
    keepalives_.clear();
}

FrameAnalysis Analyzer::observe(const Datagram& d) {
    FrameAnalysis fa;
    fa.kind = d.kind;
    switch (d.kind) {
        case DatagramKind::PlainIke: learn(d.src, d.dst, PairRole::Ike); break;
        case DatagramKind::FloatedIke:
        case DatagramKind::EspInUdp:
        case DatagramKind::IkeWithoutMarker: learn(d.src, d.dst, PairRole::Natt); break;
        case DatagramKind::Keepalive: {
            KeepaliveSeries& s = keepalives_[Flow{d.src, d.dst}];
            if (s.last_frame != 0 && s.last_frame < d.frame) {
                fa.keepalive_prev_frame = s.last_frame;
                fa.keepalive_interval_ns = d.time_ns - s.last_time_ns;
            }
            s.last_frame = d.frame;
            s.last_time_ns = d.time_ns;
            break;
        }
        default: break;
    }
    return fa;
}

}  // namespace natt
