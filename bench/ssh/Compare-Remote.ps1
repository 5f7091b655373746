#Requires -Version 7.0
<#
.SYNOPSIS
    Local workers against workers on one loopback "host" over ssh, in the same run.
.DESCRIPTION
    Starts a private sshd on 127.0.0.1 (the test fixture of tests/Pester/SshTestHelpers.ps1: temp keys and known
    hosts, never the system's), then times, alternating the two pools on each repeat:
      trivial   100,000 items of `$_ * 2` on 2 local workers vs 2 remote workers
      cpu       200 items of ~30 ms of SHA-256 work each
      chunk     2,000 items with -ChunkSize 1: per-chunk overhead (time / items)
      cold      New-ProcessPool -> first result of a 1-item map (the remote host's assembly cache is warm after the first)
    Prints a Markdown table of medians and the remote/local ratio. Loopback only.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/ssh/Compare-Remote.ps1 -Repeat 3
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/Debug/ProcessPool/ProcessPool.psd1'),
    [int] $Repeat = 3,
    [int] $TrivialItems = 100000,
    [int] $CpuItems = 200
)
$ErrorActionPreference = 'Stop'
$tests = Join-Path $PSScriptRoot '../../tests/Pester'
. (Join-Path $tests 'TestHelpers.ps1')
. (Join-Path $tests 'SshTestHelpers.ps1')
Import-Module $ModulePath -Force

function Measure-Seconds([scriptblock] $Block) { $clock = [Diagnostics.Stopwatch]::StartNew(); $null = & $Block; $clock.Elapsed.TotalSeconds }
function Get-Median([double[]] $Values) { $sorted = $Values | Sort-Object; $sorted[[int][math]::Floor(($sorted.Count - 1) / 2)] }

$cpu = {
    $sha = [Security.Cryptography.SHA256]::Create()
    $bytes = [Text.Encoding]::UTF8.GetBytes("item $_")
    for ($i = 0; $i -lt 6000; $i++) { $bytes = $sha.ComputeHash($bytes) }
    [BitConverter]::ToString($bytes, 0, 4)
}

$fixture = New-SshFixture
try {
    $server = Start-TestSshd $fixture
    $ssh = Get-SshPoolParameters $fixture
    $remoteArgs = @{ HostName = $server.HostName; WorkersPerHost = 2 } + $ssh
    $results = [ordered]@{ trivial = @{ local = @(); remote = @() }; cpu = @{ local = @(); remote = @() }; chunk = @{ local = @(); remote = @() }; cold = @{ local = @(); remote = @() } }

    # Cold start first: the very first remote pool also fills the host's assembly cache (reported separately).
    $firstRemote = Measure-Seconds { $p = New-ProcessPool -Name bench-first @remoteArgs; 1 | Invoke-PoolMap -Pool $p { $_ }; Remove-ProcessPool $p -Force }
    for ($r = 0; $r -lt $Repeat; $r++) {
        $results.cold.local += Measure-Seconds { $p = New-ProcessPool -Name "bench-cold-l$r" -Size 2; 1 | Invoke-PoolMap -Pool $p { $_ }; Remove-ProcessPool $p -Force }
        $results.cold.remote += Measure-Seconds { $p = New-ProcessPool -Name "bench-cold-r$r" @remoteArgs; 1 | Invoke-PoolMap -Pool $p { $_ }; Remove-ProcessPool $p -Force }
    }

    $local = New-ProcessPool -Name bench-local -Size 2
    $remote = New-ProcessPool -Name bench-remote @remoteArgs
    $null = Wait-Until { $local.Idle -eq 2 -and $remote.Idle -eq 2 } -TimeoutSeconds 120
    $expectedCpu = 1..$CpuItems | ForEach-Object $cpu
    foreach ($pool in $local, $remote) { $null = 1..2000 | Invoke-PoolMap -Pool $pool -NoProgress { $_ * 2 } } # warm-up
    for ($r = 0; $r -lt $Repeat; $r++) {
        $order = if ($r % 2 -eq 0) { @('local', 'remote') } else { @('remote', 'local') }
        foreach ($side in $order) {
            $pool = if ($side -eq 'local') { $local } else { $remote }
            $out = $null
            $results.trivial[$side] += Measure-Seconds { $script:out = 1..$TrivialItems | Invoke-PoolMap -Pool $pool -NoProgress { $_ * 2 } }
            if ($script:out.Count -ne $TrivialItems -or $script:out[-1] -ne 2 * $TrivialItems) { throw "trivial: wrong result on $side" }
            $results.cpu[$side] += Measure-Seconds { $script:out = 1..$CpuItems | Invoke-PoolMap -Pool $pool -NoProgress $cpu }
            if (($script:out -join ',') -ne ($expectedCpu -join ',')) { throw "cpu: wrong result on $side" }
            $results.chunk[$side] += (Measure-Seconds { $null = 1..2000 | Invoke-PoolMap -Pool $pool -NoProgress -ChunkSize 1 { $_ } }) / 2000
        }
    }
    Remove-ProcessPool $local, $remote -Force

    "| workload | 2 local workers | 2 workers over ssh (loopback) | remote / local |"
    "|---|---|---|---|"
    foreach ($name in 'trivial', 'cpu', 'chunk', 'cold') {
        $l = Get-Median $results[$name].local; $m = Get-Median $results[$name].remote
        $unit = if ($name -eq 'chunk') { { param($v) '{0:N0} µs/chunk' -f ($v * 1e6) } } else { { param($v) '{0:N2} s' -f $v } }
        "| $name | $(& $unit $l) | $(& $unit $m) | $('{0:N2}x' -f ($m / $l)) |"
    }
    "first remote pool on a host with an empty assembly cache -> first result: $('{0:N2} s' -f $firstRemote)"
    "medians of $Repeat; $TrivialItems trivial items, $CpuItems CPU items; $([Environment]::ProcessorCount) processors; $(Get-Date -Format 'yyyy-MM-dd')"
}
finally {
    Get-ProcessPool | Where-Object Name -Like 'bench-*' | Remove-ProcessPool -Force -ErrorAction SilentlyContinue
    Remove-SshFixture $fixture
}
