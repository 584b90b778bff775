"""The machinery around the engine: the switches (modes), detect_anomaly's checks,
compile's tracing hook, and backward step by step. Each module imports the engine;
the engine imports none of them."""

from microgrid.autograd import anomaly, modes, steps, tracing

__all__ = ['anomaly', 'modes', 'steps', 'tracing']
