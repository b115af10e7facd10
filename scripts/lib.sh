# Shared by scripts/demo and scripts/test: install what is missing on a
# Debian/Ubuntu machine, then build.

# Packages needed to build and test (the module itself needs only Apache,
# OpenSSL, jansson and libcurl at run time).
AUTHOS_PKGS="make gcc libc6-dev pkg-config ca-certificates curl \
apache2 apache2-dev libssl-dev libjansson-dev libcurl4-openssl-dev \
libcmocka-dev python3 python3-pytest python3-cryptography python3-jwt \
python3-requests"

authos_root() {
    cd "$(dirname "$0")/.." && pwd
}

authos_install_missing() {
    missing=""
    for p in $AUTHOS_PKGS; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
                | grep -q "install ok installed"; then
            missing="$missing $p"
        fi
    done
    [ -z "$missing" ] && return 0
    echo "Installing:$missing"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -q
    # The apache2 package's own service is not used: the demo and the tests
    # start their own Apache with a generated configuration.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
        --no-install-recommends $missing
}

authos_build() {
    make -j"$(nproc)" all >/dev/null || make all
}
