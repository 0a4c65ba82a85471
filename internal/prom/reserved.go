package prom // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"

import "strings"

// gatewayReservedNames are the families the Pushgateway writes into every
// group itself (a pushed one would be silently overwritten), and those it
// exposes about itself (1.5.1), with the _count and _sum its summary owns:
// a pushed family of such a name is refused with 400 unless its type is
// the gateway's (and on a gateway without the consistency check breaks
// every scrape), so it is never pushed. Every pushgateway_* name is the
// gateway's too.
var gatewayReservedNames = map[string]bool{
	"push_time_seconds": true, "push_failure_time_seconds": true,
	"go_gc_duration_seconds": true, "go_gc_duration_seconds_count": true, "go_gc_duration_seconds_sum": true,
	"go_goroutines": true, "go_info": true, "go_threads": true,
	"go_memstats_alloc_bytes": true, "go_memstats_alloc_bytes_total": true,
	"go_memstats_buck_hash_sys_bytes": true, "go_memstats_frees_total": true,
	"go_memstats_gc_sys_bytes": true, "go_memstats_heap_alloc_bytes": true,
	"go_memstats_heap_idle_bytes": true, "go_memstats_heap_inuse_bytes": true,
	"go_memstats_heap_objects": true, "go_memstats_heap_released_bytes": true,
	"go_memstats_heap_sys_bytes": true, "go_memstats_last_gc_time_seconds": true,
	"go_memstats_lookups_total": true, "go_memstats_mallocs_total": true,
	"go_memstats_mcache_inuse_bytes": true, "go_memstats_mcache_sys_bytes": true,
	"go_memstats_mspan_inuse_bytes": true, "go_memstats_mspan_sys_bytes": true,
	"go_memstats_next_gc_bytes": true, "go_memstats_other_sys_bytes": true,
	"go_memstats_stack_inuse_bytes": true, "go_memstats_stack_sys_bytes": true,
	"go_memstats_sys_bytes":     true,
	"process_cpu_seconds_total": true, "process_max_fds": true, "process_open_fds": true,
	"process_resident_memory_bytes": true, "process_start_time_seconds": true,
	"process_virtual_memory_bytes": true, "process_virtual_memory_max_bytes": true,
}

// GatewayReserved says the Pushgateway holds a family of this name
// itself: it is never pushed.
func GatewayReserved(name string) bool {
	return gatewayReservedNames[name] || strings.HasPrefix(name, "pushgateway_")
}
