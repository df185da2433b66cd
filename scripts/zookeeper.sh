# Sourced by the demo scripts: start_zookeeper WORK starts Debian's ZooKeeper on a free port of
# 127.0.0.1 with its configuration and data under WORK/zookeeper, waits until it answers, and
# sets zk_port and zk_pid.
start_zookeeper() {
  local work=$1
  zk_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/zookeeper/data"
  cat > "$work/zookeeper/zoo.cfg" <<CFG
tickTime=500
dataDir=$work/zookeeper/data
clientPort=$zk_port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok
CFG
  java -Dzookeeper.log.dir="$work/zookeeper" -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$work/zookeeper/zoo.cfg" > "$work/zookeeper/zookeeper.log" 2>&1 &
  zk_pid=$!
  for _ in $(seq 1 150); do
    [ "$( (exec 3<>"/dev/tcp/127.0.0.1/$zk_port" && printf ruok >&3 && head -c 4 <&3) 2>/dev/null)" = imok ] && break
    sleep 0.2
  done
}
