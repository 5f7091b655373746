# Loopback "hosts" for the remote-pool tests: each is a private sshd (sshd -D -e -f <temp config>) on 127.0.0.1 and a
# free port, with its own host key, authorized keys and cache directory in a temp directory. Nothing here reads or
# writes the system's ssh configuration, known hosts or keys: clients get their known_hosts file through -Options.
# Every sshd a test starts, Stop-TestSshd ends (with every process under it).

function Get-SshdPath {
    foreach ($candidate in @('/usr/sbin/sshd', '/usr/local/sbin/sshd', '/sbin/sshd')) { if (Test-Path -LiteralPath $candidate) { return $candidate } }
    $found = Get-Command sshd -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($found) { return $found.Source }
    throw 'sshd is not installed: the remote-pool tests need openssh-server (.ci/run installs it).'
}

# The fixture's shared pieces: one temp directory, one user key that every test sshd accepts.
function New-SshFixture {
    $dir = Join-Path ([IO.Path]::GetTempPath()) ('pp-ssh-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
    $null = New-Item -ItemType Directory -Path $dir
    if ($IsLinux -or $IsMacOS) { chmod 700 $dir }
    $key = Join-Path $dir 'user_key'
    & ssh-keygen -q -t ed25519 -N '' -C 'processpool-test' -f $key | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'ssh-keygen failed to make the test user key.' }
    # sshd needs its privilege separation directory (a fresh machine may not have it until the service first ran).
    if (-not (Test-Path -LiteralPath '/run/sshd')) { $null = New-Item -ItemType Directory -Path '/run/sshd' -Force }
    $dotnet = (Get-Process -Id $PID).Path
    $remotePowerShell = if ((Split-Path -Leaf $dotnet) -like 'dotnet*' -and (Test-Path -LiteralPath (Join-Path $PSHOME 'pwsh.dll'))) {
        "$dotnet $(Join-Path $PSHOME 'pwsh.dll')"
    } else { $dotnet }
    [pscustomobject]@{
        Dir              = $dir
        KeyFilePath      = $key
        KnownHosts       = Join-Path $dir 'known_hosts'
        RemotePowerShell = $remotePowerShell
        Servers          = [Collections.Generic.List[object]]::new()
    }
}

function Get-FreeLoopbackPort {
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

# Starts one sshd; its host key goes into the fixture's known_hosts unless -Untrusted, so clients can connect.
# -Port takes a given port (a host that comes up where a pool already expects it) instead of a free one.
function Start-TestSshd($Fixture, [switch] $Untrusted, [int] $Port) {
    $n = $Fixture.Servers.Count + 1
    $dir = Join-Path $Fixture.Dir "host$n"
    $null = New-Item -ItemType Directory -Path $dir, (Join-Path $dir 'cache')
    $hostKey = Join-Path $dir 'host_key'
    & ssh-keygen -q -t ed25519 -N '' -f $hostKey | Out-Null
    Copy-Item -LiteralPath "$($Fixture.KeyFilePath).pub" -Destination (Join-Path $dir 'authorized_keys')
    for ($attempt = 1; ; $attempt++) {
        $port = if ($Port) { $Port } else { Get-FreeLoopbackPort }
        $config = Join-Path $dir 'sshd_config'
        @(
            'ListenAddress 127.0.0.1'
            "Port $port"
            "HostKey $hostKey"
            "AuthorizedKeysFile $(Join-Path $dir 'authorized_keys')"
            'PidFile none'
            'StrictModes no'
            'UsePAM no'
            'PasswordAuthentication no'
            'KbdInteractiveAuthentication no'
            'PubkeyAuthentication yes'
            'PermitRootLogin prohibit-password'
            'MaxStartups 100:30:200'
            'MaxSessions 100'
            'LogLevel ERROR'
            # Each test host caches the shipped assemblies in its own directory, as separate machines would.
            "SetEnv XDG_CACHE_HOME=$(Join-Path $dir 'cache') POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off DOTNET_CLI_TELEMETRY_OPTOUT=1"
        ) | Set-Content -LiteralPath $config
        $log = Join-Path $dir 'sshd.log'
        $process = Start-Process -FilePath (Get-SshdPath) -ArgumentList @('-D', '-e', '-f', $config) -RedirectStandardError $log -PassThru
        if (Wait-Until { (Test-LoopbackPort $port) -or $process.HasExited } -TimeoutSeconds 15) {
            if (-not $process.HasExited) { break }
        }
        Stop-ProcessTree $process.Id
        if ($attempt -ge 3) { throw "sshd did not start on 127.0.0.1:$port`: $(Get-Content -Raw -LiteralPath $log)" }
    }
    $server = [pscustomobject]@{
        Port        = $port
        HostName    = "127.0.0.1:$port"
        ProcessId   = $process.Id
        Process     = $process
        Dir         = $dir
        HostKeyLine = "[127.0.0.1]:$port " + ((Get-Content -LiteralPath "$hostKey.pub") -split ' ')[0..1] -join ' '
    }
    if (-not $Untrusted) { Add-Content -LiteralPath $Fixture.KnownHosts -Value $server.HostKeyLine }
    $Fixture.Servers.Add($server)
    $server
}

function Test-LoopbackPort([int] $Port) {
    $client = [Net.Sockets.TcpClient]::new()
    try { $client.ConnectAsync([Net.IPAddress]::Loopback, $Port).Wait(500) -and $client.Connected } catch { $false } finally { $client.Dispose() }
}

# The parameters New-ProcessPool needs to reach the fixture's hosts (splat them, then add -HostName).
function Get-SshPoolParameters($Fixture) {
    @{
        KeyFilePath      = $Fixture.KeyFilePath
        RemotePowerShell = $Fixture.RemotePowerShell
        Options          = @{ UserKnownHostsFile = $Fixture.KnownHosts; GlobalKnownHostsFile = '/dev/null'; IdentitiesOnly = 'yes' }
    }
}

# Process ids of every descendant of a process (Linux /proc walk).
function Get-ProcessDescendants([int] $Id) {
    $children = @{}
    foreach ($stat in Get-ChildItem -Path /proc -Directory -ErrorAction SilentlyContinue | Where-Object Name -Match '^\d+$') {
        try {
            $text = [IO.File]::ReadAllText("/proc/$($stat.Name)/stat")
            $parent = [int](($text.Substring($text.LastIndexOf(')') + 2) -split ' ')[1])
            if (-not $children.ContainsKey($parent)) { $children[$parent] = [Collections.Generic.List[int]]::new() }
            $children[$parent].Add([int]$stat.Name)
        }
        catch { } # the process ended while we looked
    }
    $result = [Collections.Generic.List[int]]::new()
    $stack = [Collections.Generic.Stack[int]]::new()
    $stack.Push($Id)
    while ($stack.Count -gt 0) {
        $current = $stack.Pop()
        if ($children.ContainsKey($current)) { foreach ($child in $children[$current]) { $result.Add($child); $stack.Push($child) } }
    }
    $result.ToArray()
}

# What runs on the "remote" side of a test host: every process under its sshd (sessions and the workers they run).
function Get-RemoteProcesses($Server) { @(Get-ProcessDescendants $Server.ProcessId) }

function Stop-ProcessTree([int] $Id) {
    $all = @($Id) + @(Get-ProcessDescendants $Id)
    foreach ($p in $all) { try { [void][Diagnostics.Process]::GetProcessById($p).Kill() } catch { } }
    $null = Wait-ProcessGone $all -TimeoutSeconds 10
}

# Ends one sshd and every session and worker under it (a host that goes away).
function Stop-TestSshd($Server) {
    if ($Server.Stopped) { return }
    Stop-ProcessTree $Server.ProcessId
    $Server | Add-Member -NotePropertyName Stopped -NotePropertyValue $true -Force
}

function Remove-SshFixture($Fixture) {
    if (-not $Fixture) { return }
    foreach ($server in $Fixture.Servers) { try { Stop-TestSshd $server } catch { Write-Warning "Stopping sshd $($server.ProcessId): $_" } }
    Remove-Item -LiteralPath $Fixture.Dir -Recurse -Force -ErrorAction SilentlyContinue
}
