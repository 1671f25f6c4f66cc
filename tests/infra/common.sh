# Sourced by ./test.sh before the servers' scripts: what they share.

# A free TCP port on the loopback interface, found by binding port 0.
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# service_account USER DIR: how to run a server as a non-root user. As root, DIR is given to USER and SERVICE_AS is
# the command prefix that runs as USER; otherwise the script's own user runs it and SERVICE_AS is empty.
service_account() {
    SERVICE_AS=()
    if [[ $(id -u) -eq 0 ]]; then
        id "$1" >/dev/null 2>&1 || die "running as root, and there is no '$1' user to run the server as"
        chown "$1" "$2"
        SERVICE_AS=(runuser -u "$1" --)
    fi
}
