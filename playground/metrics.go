package playground

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are one Server's Prometheus collectors, in a registry of its
// own so that several servers (tests) never collide.
type metrics struct {
	reg             *prometheus.Registry
	runs            *prometheus.CounterVec
	compileDuration prometheus.Histogram
	runDuration     prometheus.Histogram
	cacheHits       prometheus.Counter
	cacheMisses     prometheus.Counter
	queueDepth      prometheus.Gauge
	running         prometheus.Gauge
	sandboxFailures prometheus.Counter
	rejected        *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "playdoc_runs_total", Help: "Program runs by outcome.",
		}, []string{"outcome"}),
		compileDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "playdoc_compile_duration_seconds", Help: "Time to compile a program (cache misses only).",
			Buckets: []float64{.1, .25, .5, 1, 2, 5, 10, 30, 60},
		}),
		runDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "playdoc_run_duration_seconds", Help: "Wall time of a program run.",
			Buckets: []float64{.01, .05, .1, .5, 1, 2, 5, 10, 15},
		}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "playdoc_cache_hits_total", Help: "Builds answered from the binary cache.",
		}),
		cacheMisses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "playdoc_cache_misses_total", Help: "Builds that needed the compiler.",
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "playdoc_queue_depth", Help: "Runs waiting for a runner.",
		}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "playdoc_running", Help: "Runs holding a runner (compiling or running).",
		}),
		sandboxFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "playdoc_sandbox_failures_total", Help: "Sandbox start or wait failures.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "playdoc_rejected_total", Help: "Requests refused before running, by reason.",
		}, []string{"reason"}),
	}
	m.reg.MustRegister(m.runs, m.compileDuration, m.runDuration, m.cacheHits, m.cacheMisses,
		m.queueDepth, m.running, m.sandboxFailures, m.rejected,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
