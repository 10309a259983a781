# The two set-up commands of the README. Both run as root on a fresh Debian 12 machine with the
# Rust toolchain (cargo) installed.
SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TARGET_DIR ?= $(CURDIR)/target
HOSHU_BIN := $(CARGO_TARGET_DIR)/debug/hoshu

# Debian packages the tests use: the browser, Japanese fonts for screenshots, the sqlite3 tool
# the audit-tampering tests edit the database with, a real VNC server with X clients to draw
# on it, a real SSH server (its sshd is started by the tests on a loopback port), and rsyslog
# (with its TLS driver) as the audit chain's syslog collector; ClamAV and nftables for the
# agent's collectors against a real clamd and clamonacc; NSS's tools (pk12util, certutil) import
# the agent's PKCS#12 into a browser certificate database. Real RDP servers for the RDP tests
# (crates/gateway/tests/fixtures/rdp-server.sh): xrdp with xorgxrdp (TLS), and FreeRDP's shadow
# server on an Xvfb (NLA, its SAM file made by winpr-hash), certificates made by openssl;
# FreeRDP's xfreerdp checks those fixtures (rdp_fixtures tests), and xwd (x11-apps) shows a
# server's screen when one is looked at by hand.
TEST_DEBS := chromium fonts-noto-cjk sqlite3 tigervnc-standalone-server tigervnc-tools x11-xserver-utils \
	x11-utils xfonts-base xterm twm xclip openssh-server rsyslog rsyslog-gnutls clamav clamav-daemon nftables \
	libnss3-tools xrdp xorgxrdp xvfb x11-apps openssl freerdp2-shadow-x11 winpr-utils freerdp2-x11

.PHONY: demo test deps web-deps check-cargo

# Installs those of the Debian packages $(1) that are missing (apt-get update only then).
define install-debs
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

check-cargo:
	@command -v $(CARGO) >/dev/null || { echo "error: cargo not found; install the Rust toolchain (rustup, stable) first" >&2; exit 1; }

## Build and run the gateway on its embedded defaults with demo users; prints the URL to open.
demo: check-cargo web-deps
	$(CARGO) run --release --locked -p hoshu-gateway --bin hoshu -- demo

## The browser-side packages the gateway embeds (guacamole-common-js) and the browser tests use.
web-deps:
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; }
	cd web && npm ci --no-audit --no-fund

## Install what the tests need (only what is missing), then run every test.
deps:
	$(call install-debs,$(TEST_DEBS))
	$(MAKE) web-deps

test: check-cargo deps
	$(CARGO) build --locked -p hoshu-gateway --bin hoshu
	$(CARGO) test --locked --workspace
	cd web && HOSHU_BIN=$(HOSHU_BIN) npm test

# Debian packages the benchmarks add to TEST_DEBS: the peer (noVNC served by websockify) and
# xdotool for the scripted xterm workload.
BENCH_DEBS := novnc websockify xdotool

.PHONY: bench

## Benchmarks, figures printed (never asserted): Hoshu beside noVNC + websockify on one Xvnc
## (bytes, CPU, frames per second; issue 3), then seeking in a one-hour recording in the
## browser (issue 7), then RDP through Hoshu beside xfreerdp on one xrdp (issue 4), then memory
## per idle session, 10,000 silent connections, and hostile targets beside real sessions.
bench: check-cargo deps
	$(call install-debs,$(BENCH_DEBS))
	$(CARGO) build --release --locked -p hoshu-gateway --bin hoshu
	cd web && HOSHU_BIN=$(CARGO_TARGET_DIR)/release/hoshu node bench/vnc-compare.mjs
	cd web && HOSHU_BIN=$(CARGO_TARGET_DIR)/release/hoshu node bench/seek-hour.mjs
	cd web && HOSHU_BIN=$(CARGO_TARGET_DIR)/release/hoshu node bench/rdp-figures.mjs
	$(CARGO) bench --locked -p hoshu-gateway --bench idle_sessions
	$(CARGO) bench --locked -p hoshu-gateway --bench silent_connections
	$(CARGO) bench --locked -p hoshu-gateway --bench hostile_neighbours
