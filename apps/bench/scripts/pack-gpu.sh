#!/usr/bin/env bash
# Packs what a GPU machine without Node or a registry needs to run the WebGPU bench rows
# (apps/bench/src/gpu.ts): this machine's node, the built @webjax packages, jax-js, fp-ts, and
# the `webgpu` package with only its linux-x64 Dawn binary (dawn.node), node and dawn.node
# xz-compressed. Run from the repository root after `pnpm build`:
#   apps/bench/scripts/pack-gpu.sh OUT     (OUT: a git-ignored folder, e.g. .gpu)
# then, on the GPU machine: OUT/run.sh   (a Vulkan loader must be installed there; see run.sh)
set -euo pipefail
out=${1:?usage: pack-gpu.sh OUT}
root=$(cd "$(dirname "$0")/../../.." && pwd)
rm -rf "$out"
mkdir -p "$out/app/node_modules/@webjax" "$out/app/node_modules/@jax-js"
# A dependency's folder as the workspace package $2 sees it (pnpm links it there).
resolve() { readlink -f "$2/node_modules/$1"; }
# The bench itself, built.
cp -r "$root/apps/bench/dist" "$out/app/dist"
echo '{ "type": "module" }' > "$out/app/package.json"
# Our packages: their package.json and dist.
for p in core webgpu; do
  mkdir -p "$out/app/node_modules/@webjax/$p"
  cp "$root/packages/$p/package.json" "$out/app/node_modules/@webjax/$p/"
  cp -r "$root/packages/$p/dist" "$out/app/node_modules/@webjax/$p/dist"
done
cp -r "$(resolve @jax-js/jax "$root/apps/bench")" "$out/app/node_modules/@jax-js/jax"
cp -r "$(resolve fp-ts "$root/packages/webgpu")" "$out/app/node_modules/fp-ts"
# Dawn: the package without the other platforms' binaries; its dawn.node compressed.
webgpu=$(resolve webgpu "$root/packages/webgpu")
mkdir -p "$out/app/node_modules/webgpu/dist/linux-x64"
cp "$webgpu/package.json" "$webgpu/index.js" "$out/app/node_modules/webgpu/"
xz -T0 -c "$webgpu/dist/linux-x64/dawn.node" > "$out/dawn.node.xz"
xz -T0 -c "$(command -v node)" > "$out/node.xz"
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Unpacks node and dawn.node beside this script, then runs the WebGPU bench rows. Needs a Vulkan
# loader (libvulkan.so.1) and the GPU's Vulkan driver; extra arguments go to node.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$here/node" ] || { xz -dc "$here/node.xz" > "$here/node"; chmod +x "$here/node"; }
dawn="$here/app/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$dawn" ] || xz -dc "$here/dawn.node.xz" > "$dawn"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
cd "$here/app" && exec "$here/node" "$@" dist/gpu.js
RUN
chmod +x "$out/run.sh"
du -sh "$out"
