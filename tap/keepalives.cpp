#include "keepalives.h"

#include <algorithm>

#include "limits.h"

namespace natt {

void KeepaliveSeries::add(uint32_t frame, int64_t time_ns) {
    if (count > 0) {
        const int64_t iv = time_ns - last_time_ns;
        if (count == 1 || iv < min_interval_ns) min_interval_ns = iv;
        if (count == 1 || iv > max_interval_ns) max_interval_ns = iv;
        add_interval(iv);
    } else {
        first_frame = frame;
    }
    count++;
    last_frame = frame;
    last_time_ns = time_ns;
}

void KeepaliveSeries::add_interval(int64_t ns) {
    intervals_seen++;
    if (intervals.size() >= kMaxKeepaliveSamples) {
        // Reservoir sampling (algorithm R): the n-th interval replaces a
        // sample with probability K/n. Any sample will do as the victim: the
        // reservoir is a multiset, so its sorted position is as good as a slot.
        uint64_t x = intervals_seen * 0x9e3779b97f4a7c15ull;
        x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ull;
        x ^= x >> 29;
        const uint64_t slot = x % intervals_seen;
        if (slot >= kMaxKeepaliveSamples) return;
        intervals.erase(intervals.begin() + static_cast<std::ptrdiff_t>(slot));
    }
    intervals.insert(std::upper_bound(intervals.begin(), intervals.end(), ns), ns);
}

int64_t KeepaliveSeries::median_interval_ns() const {
    return intervals.empty() ? 0 : intervals[intervals.size() / 2];
}

void Keepalives::observe(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
    const Flow flow{d.src, d.dst};
    // Past the budget a new flow (keepalives replayed from ever new ports)
    // is not remembered: no interval, no duplicate check for it.
    LastOfFlow none;
    LastOfFlow& last = flows_.contains(flow) || Budget(kKeepaliveFlowsPerSa).has_room(flows_.size(), max_sas_)
                           ? flows_[flow]
                           : none;
    // One keepalive captured twice: never an interval of its own.
    // Without IPv4 IDs to compare, only when nothing else of the SA came between.
    if (last.frame != 0 && last.frame < d.frame && same_datagram(d.time_ns, d.ip_id, last.time_ns, last.ip_id) &&
        ((d.ip_id != 0 && last.ip_id != 0) || sa.last_new_frame == last.frame)) {
        fa.copy = Copy::Duplicate;
        fa.related_frame = last.frame;
        return;
    }
    if (last.frame != 0 && last.frame < d.frame) {
        fa.keepalive_prev_frame = last.frame;
        fa.keepalive_interval_ns = d.time_ns - last.time_ns;
    }
    last.frame = d.frame;
    last.ip_id = d.ip_id;
    last.time_ns = d.time_ns;
    if (d.side != 0 || fa.dir == Direction::Unknown) return;
    sa.keepalives[static_cast<int>(fa.dir)].add(d.frame, d.time_ns);
}

}  // namespace natt
