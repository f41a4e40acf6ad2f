/*
 * Model of the socket backend's arbiter fail-over protocol, as redesigned (lease TTLs, fencing tokens reserved in a
 * state file, a validity anchor on every grant, and a grace period for re-assertions after fail-over), for the SPIN
 * model checker. scripts/model-check.sh checks it exhaustively and checks that its mutants (below) fail.
 *
 * What is modelled: one exclusive key; N clients (processes of the host); one arbiter at a time, which can exit or
 * crash MAXCHG times, each time followed by the election of a successor; the host's shared monotonic clock, ticking
 * at any moment; a lease TTL of TTL ticks; clients that can be paused (SIGSTOP) at any moment for any number of
 * ticks, and that can crash (MAXCRASH crashes in all).
 *
 * Properties:
 *  (a) exclusion: at no instant do two clients both believe they hold the key. A client believes it holds the key
 *      while it is alive, has a lease, and the lease's local validity has not run out on the shared clock; a paused
 *      client counts too (it would carry on as holder when resumed). Checked by the process 'exclusion'.
 *  (b) fencing: every grant's fencing token is greater than every token granted before it, by any arbiter.
 *      Checked by an assertion in the arbiter's grant step.
 *
 * Compile-time switches (spin -D...), each removing one part of the design, to show that the model can fail:
 *  NO_GRACE        a new arbiter grants at once, without the grace period for re-assertions.
 *  NO_ANCHOR       a client counts a fresh TTL from the moment it reads a grant or a renewal's answer, instead of
 *                  using the arbiter's expiry (grants) or its own send time (renewals).
 *  NO_FENCE_STATE  a new arbiter restarts the fencing counter instead of continuing above the stored mark.
 *
 * Abstractions (what the model leaves out or simplifies, and why that keeps the check sound):
 *  - Time is relative. Every point in time the protocol keeps (a lease's expiry at the arbiter, a client's local
 *    validity, the expiry a grant carries, the horizon) is stored as the number of ticks from now until it,
 *    0 meaning "now or past"; the clock's tick counts them all down by one. Every comparison the protocol makes is
 *    between such a point and now, so nothing is lost, and runs of every length are covered (no time limit):
 *    every value stays within 0..TTL.
 *  - A pause is a client that takes no step while the clock ticks and the others act. The search has no fairness,
 *    so it covers every such run, whatever its length and whenever it starts, including one where a client stops
 *    with a grant or an answer unread. A paused client that then crashes is a crash.
 *  - A client's validity runs out with the tick that reaches it: the lease is lost then (the clock step drops it).
 *    The client could not do anything with it later anyway: an answer to a renewal that arrives after the validity
 *    ran out is ignored.
 *  - One key, exclusive mode: keys are independent in the arbiter.
 *  - Messages are single slots: each client has at most one request on its way to the arbiter (req*) and at most
 *    one message on its way back (in*), which is how a client uses its connection (one request at a time; a grant
 *    is pushed only to a client that is waiting). A slot is read at any later moment, so any delay is covered.
 *    Requests still on their way die with the arbiter; what the arbiter already wrote stays readable (the kernel
 *    keeps it in the socket buffer) and is read before the client sees its connection close.
 *  - The arbiter's queue is a set: it grants the free key to any queued waiter (covers first-in-first-out).
 *  - The arbiter is its own process here. In the product it runs inside one client process: when that process is
 *    paused, the arbiter does nothing while the clock runs (covered: each of its steps can be delayed), and when
 *    that process dies, the arbiter exits and that client crashes (covered: two steps in a row).
 *  - The election (the file lock) is one step: at most one arbiter runs at any time, as the file lock guarantees.
 *  - The state file (fencing mark, horizon, set of clients) is written before the step that relies on it takes
 *    effect; each arbiter step is atomic here, so written first is the same as written in the same step.
 *  - An accepted re-assertion's answer changes nothing at the client, so it is not modelled (a refusal is).
 *  - A renewal carries the expiry the client will count if it is accepted (send time + TTL) and its answer echoes
 *    it; in the product the client keeps its send time itself. Same value, one variable fewer.
 *  - Bounds: fencing tokens up to MAXTOK (so a bounded number of grants), MAXCHG arbiter changes, MAXCRASH client
 *    crashes. Renewals, re-acquisitions and time are unbounded. Within those bounds the search is exhaustive.
 *
 * The printf lines tell the steps of a counterexample when SPIN replays it (spin -t -T); the verifier skips them.
 */

#ifndef N
#define N 3            /* clients: 2 or 3 */
#endif
#ifndef TTL
#define TTL 3          /* lease time-to-live, in ticks */
#endif
#ifndef MAXCHG
#define MAXCHG 2       /* arbiter exits/crashes, each followed by an election */
#endif
#ifndef MAXCRASH
#define MAXCRASH 1     /* client crashes, in all */
#endif
#ifndef MAXTOK
#define MAXTOK 5       /* no grant gets a fencing token above this */
#endif
#define BLOCK 2        /* fencing tokens reserved per write of the state file */

#define NONE 255

/* A client's lease state. */
#define IDLE 0
#define WAIT 1         /* asked for the key, no grant read yet */
#define HOLD 2         /* has a lease: believes it holds the key while valid > 0 */

/* Requests, client -> arbiter. RA_* is the first message on a new connection: the re-assertion. */
#define ACQ 1          /* queue me for the key */
#define RENEW 2        /* renew lease reqtok; reqt = its send time + TTL */
#define REL 3          /* release lease reqtok */
#define RA_HOLD 4      /* re-assert lease reqtok, valid until reqt */
#define RA_WAIT 5      /* re-assert nothing, and queue me for the key */
#define RA_IDLE 6      /* re-assert nothing */

/* Messages, arbiter -> client. */
#define GRANT 1        /* lease intok, valid until inexp: the arbiter's expiry (the validity anchor) */
#define RENEWED 2      /* renewal accepted; inexp = the renewal's send time + TTL */
#define REFUSED 3      /* renewal or re-assertion refused: the lease is gone */

/* All times below are relative: ticks from now (see Abstractions). */

/* ---- clients (index = the client's _pid) ---- */
bit alive[N] = 1;      /* every client starts alive and connected to the first arbiter */
bit stale[N];          /* its connection closed (its arbiter went away), not yet reconnected */
byte st[N];
byte ctok[N];          /* fencing token of its lease */
byte valid[N];         /* local validity of its lease: it believes it holds the key while valid > 0 */

/* ---- message slots ---- */
byte reqk[N]; byte reqtok[N]; byte reqt[N];
byte ink[N];  byte intok[N];  byte inexp[N];

/* ---- the arbiter in office: its memory, lost when it exits ---- */
bit up = 1;            /* an arbiter runs (the first one has no predecessor, so no grace period) */
bit grace;             /* it is in its grace period */
byte holder = NONE;    /* the client whose lease it knows, or NONE */
byte htok;             /* that lease's fencing token */
byte hexp;             /* that lease's expiry */
bit queued[N];         /* waiters */
bit conn[N];           /* in the grace period: the client has re-asserted */
byte next;             /* last fencing token it issued */
byte graceEnd;         /* the stored horizon as it read it when elected: the longest its grace period lasts (its
                          own promises move the stored horizon on, and need no waiting for) */

/* ---- the state file: survives the arbiter ---- */
byte mark;             /* every token issued so far is <= mark */
byte horizon;          /* every lease expiry ever granted, renewed or accepted is <= horizon */
bit inset[N] = 1;      /* the set of clients that may hold leases of an earlier arbiter */

/* ---- bounds and ghost variables ---- */
byte changes;          /* arbiter changes so far */
byte crashes;          /* client crashes so far */
byte lastTok;          /* the greatest fencing token granted so far (property b) */

#define me _pid
#define BELIEVES(i) (alive[i] && st[i] == HOLD && valid[i] > 0)
#define MAX(a, b) ((a) > (b) -> (a) : (b))

#if N == 2
#define TWO_BELIEVE (BELIEVES(0) && BELIEVES(1))
#define ANY_QUEUED (queued[0] || queued[1])
#define ANY_REQUEST (reqk[0] != 0 || reqk[1] != 0)
#define ALL_REASSERTED ((!inset[0] || !alive[0] || conn[0]) && (!inset[1] || !alive[1] || conn[1]))
#define PICK(cond) if :: cond(0) -> c = 0 :: cond(1) -> c = 1 fi
#define FOR_ALL(body) body(0); body(1)
#elif N == 3
#define TWO_BELIEVE ((BELIEVES(0) && BELIEVES(1)) || (BELIEVES(0) && BELIEVES(2)) || (BELIEVES(1) && BELIEVES(2)))
#define ANY_QUEUED (queued[0] || queued[1] || queued[2])
#define ANY_REQUEST (reqk[0] != 0 || reqk[1] != 0 || reqk[2] != 0)
#define ALL_REASSERTED ((!inset[0] || !alive[0] || conn[0]) && (!inset[1] || !alive[1] || conn[1]) && \
                        (!inset[2] || !alive[2] || conn[2]))
#define PICK(cond) if :: cond(0) -> c = 0 :: cond(1) -> c = 1 :: cond(2) -> c = 2 fi
#define FOR_ALL(body) body(0); body(1); body(2)
#else
#error N must be 2 or 3
#endif

#define IS_QUEUED(i) queued[i]
#define HAS_REQUEST(i) (reqk[i] != 0)
#define COUNT_DOWN(x) if :: x > 0 -> x-- :: else fi

/* Puts a message in the incoming slot of client c (the arbiter's local), empty then: one thing pending per client. */
inline send(kind, tok, exp) {
	assert(ink[c] == 0);
	ink[c] = kind; intok[c] = tok; inexp[c] = exp
}

inline drop_lease() {
	st[me] = IDLE; ctok[me] = 0; valid[me] = 0
}

/*
 * A client: one process of the host that locks the key. Each branch is one atomic step. A client sends a request
 * only when it has nothing else pending (both slots empty) and is connected (not stale).
 */
active [N] proctype client() {
end:
	do
	/* Crash (SIGKILL, also of a paused process): the arbiter sees the connection close and frees its lease at once. */
	:: atomic { alive[me] && crashes < MAXCRASH ->
		printf("client %d crashes\n", me);
		crashes++; alive[me] = 0; stale[me] = 0; drop_lease();
		reqk[me] = 0; reqtok[me] = 0; reqt[me] = 0; ink[me] = 0; intok[me] = 0; inexp[me] = 0;
		if
		:: holder == me -> holder = NONE; htok = 0; hexp = 0
		:: else
		fi;
		queued[me] = 0; conn[me] = 0; inset[me] = 0 }

	/* Asks for the key. */
	:: atomic { alive[me] && st[me] == IDLE && !stale[me] && reqk[me] == 0 && ink[me] == 0 ->
		printf("client %d asks for the key\n", me);
		st[me] = WAIT; reqk[me] = ACQ }

	/* Renews its lease (which is valid: a lease that runs out is dropped at once, see the clock). */
	:: atomic { alive[me] && st[me] == HOLD && !stale[me] && reqk[me] == 0 && ink[me] == 0 ->
		printf("client %d sends a renewal of lease %d\n", me, ctok[me]);
		reqk[me] = RENEW; reqtok[me] = ctok[me]; reqt[me] = TTL }

	/* Releases its lease: it stops believing at once. */
	:: atomic { alive[me] && st[me] == HOLD && !stale[me] && reqk[me] == 0 && ink[me] == 0 ->
		printf("client %d releases lease %d\n", me, ctok[me]);
		reqk[me] = REL; reqtok[me] = ctok[me]; drop_lease() }

	/* Reads a grant. */
	:: atomic { alive[me] && ink[me] == GRANT ->
		assert(st[me] == WAIT);
#ifdef NO_ANCHOR
		/* Today's client: a fresh TTL from the moment it reads the grant. */
		st[me] = HOLD; ctok[me] = intok[me]; valid[me] = TTL;
		printf("client %d reads grant %d (%d ticks left at the arbiter): holds the key for %d ticks\n", me, intok[me],
			inexp[me], TTL);
#else
		if
		:: inexp[me] > 0 -> st[me] = HOLD; ctok[me] = intok[me]; valid[me] = inexp[me];
			printf("client %d reads grant %d: holds the key for %d ticks\n", me, intok[me], inexp[me])
		:: else ->
			printf("client %d reads grant %d after its expiry: releases it\n", me, intok[me]);
			/* Read after its expiry: treated as never granted, and released (if there is an arbiter to tell). */
			st[me] = IDLE;
			if
			:: !stale[me] && reqk[me] == 0 -> reqk[me] = REL; reqtok[me] = intok[me]
			:: else
			fi
		fi;
#endif
		ink[me] = 0; intok[me] = 0; inexp[me] = 0 }

	/* Reads a renewal's answer; ignored when the lease has already run out (it was lost then). */
	:: atomic { alive[me] && ink[me] == RENEWED ->
		if
		:: st[me] == HOLD ->
#ifdef NO_ANCHOR
			valid[me] = TTL;
			printf("client %d reads its renewal's answer: holds the key for %d ticks\n", me, TTL)
#else
			/* inexp: its send time + TTL. An answer read after that leaves the lease lost. */
			if
			:: inexp[me] > 0 -> valid[me] = inexp[me];
				printf("client %d reads its renewal's answer: holds the key for %d ticks\n", me, inexp[me])
			:: else -> drop_lease(); printf("client %d reads its renewal's answer too late: lease lost\n", me)
			fi
#endif
		:: else
		fi;
		ink[me] = 0; intok[me] = 0; inexp[me] = 0 }

	/* Reads a refusal (of a renewal or a re-assertion): the lease is gone. */
	:: atomic { alive[me] && ink[me] == REFUSED ->
		if
		:: st[me] == HOLD -> drop_lease(); printf("client %d reads a refusal: lease lost\n", me)
		:: else
		fi;
		ink[me] = 0 }

	/*
	 * Its connection closed and it has read everything the old arbiter wrote: it connects to the new arbiter and
	 * re-asserts what it holds (its lease, with its fencing token and expiry), or nothing; a waiter asks to be
	 * queued again in the same message. The lease is kept locally meanwhile.
	 */
	:: atomic { alive[me] && stale[me] && up && ink[me] == 0 ->
		stale[me] = 0;
		if
		:: st[me] == HOLD -> reqk[me] = RA_HOLD; reqtok[me] = ctok[me]; reqt[me] = valid[me];
			printf("client %d reconnects, re-asserts lease %d (%d ticks left)\n", me, ctok[me], valid[me])
		:: st[me] == WAIT -> reqk[me] = RA_WAIT; printf("client %d reconnects, waits for the key\n", me)
		:: st[me] == IDLE -> reqk[me] = RA_IDLE; printf("client %d reconnects, holds nothing\n", me)
		fi }
	od
}

/*
 * The clock: the host's monotonic clock, shared by all processes, ticking at any moment. A tick counts every stored
 * point in time down by one (they are relative to now); a client whose validity runs out with it loses its lease.
 */
active proctype clock() {
end:
	do
	:: d_step {
		printf("tick\n");
#define TICK(i) COUNT_DOWN(valid[i]); \
		if :: st[i] == HOLD && valid[i] == 0 -> st[i] = IDLE; ctok[i] = 0; \
			printf("client %d: its validity ran out, lease lost\n", i) :: else fi; \
		COUNT_DOWN(reqt[i]); COUNT_DOWN(inexp[i])
		FOR_ALL(TICK);
		COUNT_DOWN(hexp);
		COUNT_DOWN(graceEnd);
		COUNT_DOWN(horizon) }
	od
}

/*
 * The arbiter role: the arbiter in office, its exit or crash, and the election of its successor. Each branch is one
 * atomic step, taken in any order and after any delay.
 */
active proctype arbiter() {
	byte c;            /* the client a step works on; back to 0 at the end of the step */
end:
	do
	/*
	 * The arbiter exits or crashes: its memory (lease table, queue, connections, requests on their way) is gone;
	 * every live client's connection closes. Clients keep their leases locally. The state file stays.
	 */
	:: atomic { up && changes < MAXCHG ->
		printf("the arbiter exits\n");
		changes++; up = 0; grace = 0; graceEnd = 0; holder = NONE; htok = 0; hexp = 0; next = 0;
#define CLOSE(i) queued[i] = 0; conn[i] = 0; reqk[i] = 0; reqtok[i] = 0; reqt[i] = 0; stale[i] = alive[i]
		FOR_ALL(CLOSE) }

	/*
	 * A successor wins the election. It continues fencing above the stored mark, and starts in the grace period
	 * (with NO_GRACE it grants at once).
	 */
	:: atomic { !up ->
		up = 1;
#ifdef NO_FENCE_STATE
		next = 0;
#else
		next = mark;
#endif
#ifdef NO_GRACE
		grace = 0;
#else
		grace = 1;
#endif
		graceEnd = horizon;
		printf("a new arbiter is elected: fencing above %d, grace period %d\n", next, grace)
	}

	/* Handles one request, from any client c that has one. */
	:: atomic { up && ANY_REQUEST ->
		PICK(HAS_REQUEST);
		if
		:: reqk[c] == ACQ -> queued[c] = 1; printf("arbiter: queues client %d\n", c)
		:: reqk[c] == RENEW ->
			if
			:: holder == c && htok == reqtok[c] ->
				hexp = TTL; horizon = MAX(horizon, hexp); send(RENEWED, 0, reqt[c]);
				printf("arbiter: renews lease %d of client %d\n", htok, c)
			:: else -> send(REFUSED, 0, 0); printf("arbiter: refuses client %d's renewal\n", c)
			fi
		:: reqk[c] == REL ->
			if
			:: holder == c && htok == reqtok[c] -> holder = NONE; htok = 0; hexp = 0;
				printf("arbiter: frees lease %d of client %d\n", reqtok[c], c)
			:: else
			fi
		:: reqk[c] == RA_HOLD ->
			/* A re-assertion: accepted unless expired or in conflict with a lease this arbiter knows. */
			conn[c] = grace; inset[c] = 1;
			if
			:: reqt[c] > 0 && (holder == NONE || holder == c) ->
				holder = c; htok = reqtok[c]; hexp = reqt[c]; horizon = MAX(horizon, hexp);
				printf("arbiter: accepts client %d's re-asserted lease %d\n", c, htok)
			:: else -> send(REFUSED, 0, 0); printf("arbiter: refuses client %d's re-assertion\n", c)
			fi
		:: reqk[c] == RA_WAIT -> conn[c] = grace; inset[c] = 1; queued[c] = 1;
			printf("arbiter: client %d re-asserts nothing, queued\n", c)
		:: reqk[c] == RA_IDLE -> conn[c] = grace; inset[c] = 1; printf("arbiter: client %d re-asserts nothing\n", c)
		fi;
		reqk[c] = 0; reqtok[c] = 0; reqt[c] = 0;
		c = 0 }

	/* Expires a lease whose expiry has passed (its holder stopped renewing). */
	:: atomic { up && holder != NONE && hexp == 0 ->
		printf("arbiter: expires lease %d of client %d\n", htok, holder);
		holder = NONE; htok = 0 }

	/*
	 * The grace period ends when every client of the stored set has re-asserted or is dead, or when the horizon
	 * it read when elected has passed. The stored set becomes the clients that re-asserted (the others' leases have
	 * expired).
	 */
	:: atomic { up && grace && (graceEnd == 0 || ALL_REASSERTED) ->
		printf("arbiter: grace period ends (horizon passed: %d)\n", graceEnd == 0);
		grace = 0;
#define RESET_SET(i) inset[i] = conn[i]; conn[i] = 0
		FOR_ALL(RESET_SET) }

	/*
	 * Grants the free key to a queued waiter (not in the grace period). The fencing token is above every earlier
	 * one: a new block of tokens is reserved in the state file first when needed. The horizon covers the new
	 * expiry, which the grant carries.
	 */
	:: atomic { up && !grace && holder == NONE && ANY_QUEUED && next < MAXTOK ->
		PICK(IS_QUEUED);
		next++;
		if
		:: next > mark -> mark = mark + BLOCK
		:: else
		fi;
		printf("arbiter: grants lease %d to client %d, expiring in %d ticks\n", next, c, TTL);
		assert(next > lastTok);      /* property (b) */
		lastTok = next;
		holder = c; htok = next; hexp = TTL; horizon = MAX(horizon, hexp);
		queued[c] = 0;
		send(GRANT, next, hexp);
		c = 0 }
	od
}

/* Property (a): enabled exactly in a state where two clients believe they hold the key, and then fails. */
active proctype exclusion() {
end:
	TWO_BELIEVE;
	printf("VIOLATION: two clients believe they hold the key\n");
	assert(!TWO_BELIEVE)
}
