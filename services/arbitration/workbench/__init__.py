"""The arbitrators' workbench: a web page where platform staff work the queue of cases and rule.

It is part of the arbitration service's bounded context (it shares the domain's ruling checks),
and runs as a process of its own: it reads the arbitration query model, publishes the commands
of `arbitration.decisions` under the arbitrator's id, and follows `arbitration.events` live to
show what became of each command."""
