# Remote workers over the system OpenSSH client, against real sshd processes on 127.0.0.1 (see SshTestHelpers.ps1):
# each sshd on its own port plays a separate host. Loopback only; every sshd a test starts, the file stops.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'SshTestHelpers.ps1')
    Import-ProcessPoolModule
    $script:fixture = New-SshFixture
    $script:hostA = Start-TestSshd $fixture
    $script:hostB = Start-TestSshd $fixture
    $script:ssh = Get-SshPoolParameters $fixture
    $script:pools = [System.Collections.Generic.List[object]]::new()
    function New-RemotePool([hashtable] $Parameters) {
        $name = 'remote-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $pool = New-ProcessPool -Name $name @script:ssh @Parameters
        $script:pools.Add($pool)
        $pool
    }
    # One two-host pool for the tests that only map over it.
    $script:shared = New-RemotePool @{ HostName = $hostA.HostName, $hostB.HostName; WorkersPerHost = 2 }
}

AfterAll {
    foreach ($pool in $script:pools) { Remove-TestPool $pool }
    foreach ($server in $script:fixture.Servers) {
        Stop-TestSshd $server
        Wait-ProcessGone @($server.ProcessId) | Should -BeNullOrEmpty
    }
    Remove-SshFixture $script:fixture
}

Describe 'New-ProcessPool with remote hosts' {
    Context 'HostName' {
        It 'maps over two hosts in input order, equal to the serial result' {
            $expected = 1..3000 | ForEach-Object { $_ * $_ }
            $actual = 1..3000 | Invoke-PoolMap -Pool $shared { $_ * $_ }
            $actual.Count | Should -Be 3000
            ($actual -join ',') | Should -BeExactly ($expected -join ',')
            $shared.Hosts.HostName | Should -Be @($hostA.HostName, $hostB.HostName)
            $shared.Hosts | ForEach-Object { $_.State | Should -Be 'Up' }
        }

        It 'maps unordered with every result exactly once' {
            $actual = 1..3000 | Invoke-PoolMap -Pool $shared -Unordered { $_ + 1 }
            $actual.Count | Should -Be 3000
            (($actual | Sort-Object) -join ',') | Should -BeExactly ((2..3001) -join ',')
        }

        It 'runs items on both hosts and counts them per host in Get-ProcessPool' {
            $null = 1..200 | Invoke-PoolMap -Pool $shared -ChunkSize 1 { Start-Sleep -Milliseconds 20; $_ }
            $hosts = (Get-ProcessPool -Name $shared.Name).Hosts
            $hosts | ForEach-Object { $_.ItemsCompleted | Should -BeGreaterThan 0 }
            $hosts.Size | Should -Be @(2, 2)
        }

        It 'names the host of every item in the job log' {
            $log = Join-Path $fixture.Dir 'remote.joblog'
            $null = 1..40 | Invoke-PoolMap -Pool $shared -ChunkSize 1 -JobLogPath $log { Start-Sleep -Milliseconds 20; $_ }
            $hosts = Get-Content -LiteralPath $log | Select-Object -Skip 1 | ForEach-Object { ($_ -split "`t")[7] }
            $hosts.Count | Should -Be 40
            $hosts | ForEach-Object { $_ | Should -BeIn @($hostA.HostName, $hostB.HostName) }
        }

        It 'runs -AsJob on a remote pool, results through Receive-PoolResult' {
            $job = 1..500 | Invoke-PoolMap -Pool $shared -AsJob { $_ * 3 }
            try {
                $results = Receive-PoolResult $job -Wait
                ($results -join ',') | Should -BeExactly ((1..500 | ForEach-Object { $_ * 3 }) -join ',')
                $job.State | Should -Be 'Completed'
            }
            finally { Remove-Job $job -Force }
        }

        It 'mixes local workers (-Size) and remote ones' {
            $pool = New-RemotePool @{ Size = 1; HostName = $hostA.HostName; WorkersPerHost = 1 }
            $pool.Size | Should -Be 2
            $pool.Hosts.HostName | Should -Be @('localhost', $hostA.HostName)
            # The test hosts give their sessions their own cache directory; a local worker has the caller's.
            $where = 1..60 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { Start-Sleep -Milliseconds 50; "$env:XDG_CACHE_HOME" }
            @($where | Sort-Object -Unique).Count | Should -Be 2
        }

        It 'refuses host names that ssh would read as an option or that hold whitespace, before anything runs' {
            { New-ProcessPool -HostName '-oProxyCommand=touch pwned' @ssh } | Should -Throw -ErrorId 'PoolHostRefused,ProcessPool.Commands.NewProcessPoolCommand'
            { New-ProcessPool -HostName "web1 -p 1" @ssh } | Should -Throw -ErrorId 'PoolHostRefused,ProcessPool.Commands.NewProcessPoolCommand'
            { New-ProcessPool -HostName "web1`n" @ssh } | Should -Throw -ErrorId 'PoolHostRefused,ProcessPool.Commands.NewProcessPoolCommand'
        }
    }

    Context 'WorkersPerHost' {
        It 'defaults to the processor count each host reports at handshake' {
            $pool = New-RemotePool @{ HostName = $hostA.HostName }
            Wait-Until { $pool.Hosts[0].ProcessorCount -gt 0 -and $pool.Idle -eq $pool.Hosts[0].Size } -TimeoutSeconds 60 | Should -BeTrue
            $reported = $pool.Hosts[0].ProcessorCount
            $pool.Hosts[0].Size | Should -Be $reported
            $pool.Size | Should -Be $reported
            # The count is the remote side's own: what a worker there sees.
            Invoke-PoolMap -Pool $pool -InputObject 1 { [Environment]::ProcessorCount } | Should -Be $reported
        }

        It 'keeps the number given, whatever the host reports' {
            $pool = New-RemotePool @{ HostName = $hostB.HostName; WorkersPerHost = 3 }
            Wait-Until { $pool.Hosts[0].ProcessorCount -gt 0 } -TimeoutSeconds 60 | Should -BeTrue
            $pool.Hosts[0].Size | Should -Be 3
        }
    }

    Context 'AssemblyPath' {
        BeforeAll {
            $script:methods = Get-TestMethodsPath
            $script:methodsHash = (Get-FileHash -LiteralPath $methods -Algorithm SHA256).Hash.ToLowerInvariant()
            # A host of its own, so its cache starts empty.
            $script:methodsHost = Start-TestSshd $fixture
            $script:cachedCopy = Join-Path $methodsHost.Dir "cache/ProcessPool/files/$methodsHash/$(Split-Path -Leaf $methods)"
        }

        It 'runs a method map on a remote host from a copy of the assembly shipped over the channel' {
            $pool = New-RemotePool @{ HostName = $methodsHost.HostName; WorkersPerHost = 2 }
            1..20 | Invoke-PoolMap -Pool $pool -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Double' | Should -Be (1..20 | ForEach-Object { 2 * $_ })
            $where = 1..20 | Invoke-PoolMap -Pool $pool -ChunkSize 1 -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::AssemblyLocation'
            $where | Sort-Object -Unique | Should -Be $cachedCopy
            (Get-FileHash -LiteralPath $cachedCopy -Algorithm SHA256).Hash | Should -Be $methodsHash.ToUpperInvariant()
            # The assembly travelled as frames: no ssh command line names it.
            foreach ($id in $pool.WorkerProcessIds) {
                [IO.File]::ReadAllText("/proc/$id/cmdline") | Should -Not -BeLike "*$(Split-Path -Leaf $methods)*"
            }
        }

        It 'uses the host''s cached copy as it is, and replaces a damaged one' {
            $written = (Get-Item -LiteralPath $cachedCopy).LastWriteTimeUtc
            $pool = New-RemotePool @{ HostName = $methodsHost.HostName; WorkersPerHost = 1 }
            Invoke-PoolMap -Pool $pool -InputObject 1 -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::AssemblyLocation' | Should -Be $cachedCopy
            (Get-Item -LiteralPath $cachedCopy).LastWriteTimeUtc | Should -Be $written

            [IO.File]::WriteAllBytes($cachedCopy, [byte[]](1..64))
            $pool = New-RemotePool @{ HostName = $methodsHost.HostName; WorkersPerHost = 1 }
            1..3 | Invoke-PoolMap -Pool $pool -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Double' | Should -Be 2, 4, 6
            (Get-FileHash -LiteralPath $cachedCopy -Algorithm SHA256).Hash | Should -Be $methodsHash.ToUpperInvariant()
        }

        It 'runs the pool''s initializer method from the shipped assembly on every remote worker' {
            $pool = New-RemotePool @{ HostName = $methodsHost.HostName; WorkersPerHost = 2; AssemblyPath = $methods
                InitializerMethod = 'ProcessPool.TestMethods.Payloads::Init'; InitializerArgumentList = @('set-remotely') }
            1..10 | Invoke-PoolMap -Pool $pool -ChunkSize 1 -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Initialized' |
                Sort-Object -Unique | Should -Be 'set-remotely'
        }
    }

    Context 'Options' {
        It 'refuses StrictHostKeyChecking=no' {
            { New-ProcessPool -HostName $hostA.HostName -KeyFilePath $fixture.KeyFilePath -Options @{ StrictHostKeyChecking = 'no' } } |
                Should -Throw -ErrorId 'PoolHostRefused,ProcessPool.Commands.NewProcessPoolCommand'
        }

        It 'fails clearly on an unknown host key, and works once the key is in the UserKnownHostsFile' {
            $stranger = Start-TestSshd $fixture -Untrusted
            $known = Join-Path $fixture.Dir 'known_hosts_stranger'
            Set-Content -LiteralPath $known -Value @()
            $parameters = @{ HostName = $stranger.HostName; WorkersPerHost = 1; KeyFilePath = $fixture.KeyFilePath; RemotePowerShell = $fixture.RemotePowerShell
                Options = @{ UserKnownHostsFile = $known; GlobalKnownHostsFile = '/dev/null'; IdentitiesOnly = 'yes' } }
            $failure = { New-ProcessPool @parameters } | Should -Throw -ErrorId 'PoolBroken,ProcessPool.Commands.NewProcessPoolCommand' -PassThru
            $failure.Exception.Message | Should -BeLike "*$($stranger.HostName)*Host key verification failed*"

            Add-Content -LiteralPath $known -Value $stranger.HostKeyLine
            $pool = New-ProcessPool @parameters
            $script:pools.Add($pool)
            1..3 | Invoke-PoolMap -Pool $pool { $_ } | Should -Be 1, 2, 3
        }

        It 'accepts a new host key only when -Options says accept-new' {
            $known = Join-Path $fixture.Dir 'known_hosts_new'
            $pool = New-ProcessPool -HostName $hostB.HostName -WorkersPerHost 1 -KeyFilePath $fixture.KeyFilePath -RemotePowerShell $fixture.RemotePowerShell `
                -Options @{ UserKnownHostsFile = $known; GlobalKnownHostsFile = '/dev/null'; IdentitiesOnly = 'yes'; StrictHostKeyChecking = 'accept-new' }
            $script:pools.Add($pool)
            # ssh may hash the host name in known_hosts (HashKnownHosts); the key itself is there either way.
            Get-Content -LiteralPath $known -Raw | Should -Match ([regex]::Escape(($hostB.HostKeyLine -split ' ')[2]))
        }
    }

    Context 'KeyFilePath' {
        It 'fails with PoolBroken naming the host and ssh''s message when the key is refused' {
            $other = Join-Path $fixture.Dir 'other_key'
            & ssh-keygen -q -t ed25519 -N '' -f $other | Out-Null
            $failure = { New-ProcessPool -HostName $hostA.HostName -WorkersPerHost 1 @ssh -KeyFilePath $other } |
                Should -Throw -ErrorId 'PoolBroken,ProcessPool.Commands.NewProcessPoolCommand' -PassThru
            $failure.Exception.Message | Should -BeLike "*$($hostA.HostName)*Permission denied*"
        }
    }

    Context 'Port' {
        It 'fails with PoolBroken when nothing listens on the port' {
            $port = Get-FreeLoopbackPort
            $failure = { New-ProcessPool -HostName 127.0.0.1 -Port $port -WorkersPerHost 1 @ssh } |
                Should -Throw -ErrorId 'PoolBroken,ProcessPool.Commands.NewProcessPoolCommand' -PassThru
            $failure.Exception.Message | Should -BeLike "*127.0.0.1:$port*Connection refused*"
        }

        It 'reports a host that cannot be reached and goes on with the hosts it has' {
            $port = Get-FreeLoopbackPort
            $pool = New-ProcessPool -HostName $hostA.HostName, "127.0.0.1:$port" -WorkersPerHost 1 @ssh -ErrorVariable hostErrors -ErrorAction SilentlyContinue
            $script:pools.Add($pool)
            $hostErrors.Count | Should -Be 1
            $hostErrors[0].FullyQualifiedErrorId | Should -Be 'PoolHostFailed,ProcessPool.Commands.NewProcessPoolCommand'
            $hostErrors[0].TargetObject | Should -Be "127.0.0.1:$port"
            1..100 | Invoke-PoolMap -Pool $pool { $_ } | Should -Be (1..100)
            # The map tried the host again (a host left out is retried for each new map); it failed again.
            Wait-Until { ($pool.Hosts | Where-Object HostName -EQ "127.0.0.1:$port").State -eq 'Failed' } -TimeoutSeconds 60 | Should -BeTrue
        }

        It 'tries a host left out again on the next map, and uses it once it is back' {
            $port = Get-FreeLoopbackPort
            $pool = New-RemotePool @{ HostName = $hostA.HostName, "127.0.0.1:$port"; WorkersPerHost = 1; ErrorAction = 'SilentlyContinue' }
            $late = { $pool.Hosts | Where-Object HostName -EQ "127.0.0.1:$port" }
            # A map makes the pool try the host until it gives it up.
            1..20 | Invoke-PoolMap -Pool $pool { $_ } | Should -Be (1..20)
            Wait-Until { (& $late).State -eq 'Failed' } -TimeoutSeconds 60 | Should -BeTrue
            $null = Start-TestSshd $fixture -Port $port
            1..20 | Invoke-PoolMap -Pool $pool { $_ } | Should -Be (1..20)
            Wait-Until { (& $late).State -eq 'Up' } -TimeoutSeconds 60 | Should -BeTrue -Because "$((& $late).LastError)"
            $null = 1..100 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { Start-Sleep -Milliseconds 30; $_ }
            (& $late).ItemsCompleted | Should -BeGreaterThan 0
        }
    }

    Context 'RemotePowerShell' {
        It 'fails with PoolBroken naming the host when there is no PowerShell there' {
            $failure = { New-ProcessPool -HostName $hostA.HostName -WorkersPerHost 1 -KeyFilePath $fixture.KeyFilePath -Options $ssh.Options -RemotePowerShell '/nonexistent/pwsh' } |
                Should -Throw -ErrorId 'PoolBroken,ProcessPool.Commands.NewProcessPoolCommand' -PassThru
            $failure.Exception.Message | Should -BeLike "*$($hostA.HostName)*/nonexistent/pwsh*"
        }

        It 'ends remote workers without rewriting the host''s PowerShell start-up profile' -Skip:$IsWindows {
            # See ScriptWorkerHost.Serve: a remote worker ends without the runtime's shutdown, which would rewrite it.
            $quiet = Start-TestSshd $fixture
            $profiles = New-Item -ItemType Directory -Path (Join-Path $quiet.Dir 'cache/powershell') -Force
            $parameters = $ssh.Clone()
            $parameters.RemotePowerShell = "env DOTNET_MultiCoreJitMinNumCpus=1 $($fixture.RemotePowerShell)" # else no profile on a single processor
            $pool = New-ProcessPool -Name ('remote-mcj-' + [guid]::NewGuid().ToString('N').Substring(0, 6)) -HostName $quiet.HostName -WorkersPerHost 2 @parameters
            $script:pools.Add($pool)
            1..20 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { Get-ChildItem -LiteralPath $PSHOME | Out-Null; $_ } | Should -Be (1..20)
            Remove-ProcessPool -Pool $pool
            Wait-Until { @(Get-RemoteProcesses $quiet).Count -eq 0 } -TimeoutSeconds 20 | Should -BeTrue
            Get-ChildItem -LiteralPath $profiles.FullName -Filter 'StartupProfileData-*' | Should -BeNullOrEmpty

            # A PowerShell that ends the usual way, with the same cache folder, does write it: the check above can fail.
            $saved = $env:XDG_CACHE_HOME, $env:DOTNET_MultiCoreJitMinNumCpus
            try {
                $env:XDG_CACHE_HOME = Split-Path $profiles.FullName
                $env:DOTNET_MultiCoreJitMinNumCpus = '1'
                Invoke-PowerShell '-NoProfile', '-NonInteractive', '-Command', '1' | Should -Be 1
            }
            finally { $env:XDG_CACHE_HOME, $env:DOTNET_MultiCoreJitMinNumCpus = $saved }
            Get-ChildItem -LiteralPath $profiles.FullName -Filter 'StartupProfileData-*' | Should -Not -BeNullOrEmpty
        }
    }

    Context 'Failures' {
        It 'completes a 50,000-item map exactly once when one host''s sshd dies in the middle' {
            $doomed = Start-TestSshd $fixture
            $pool = New-RemotePool @{ HostName = $hostA.HostName, $doomed.HostName; WorkersPerHost = 1 }
            $seen = 0
            $results = 1..50000 | Invoke-PoolMap -Pool $pool { $_ } | ForEach-Object {
                if (++$seen -eq 5000) { Stop-TestSshd $doomed }
                $_
            }
            $results.Count | Should -Be 50000
            ($results -join ',') | Should -BeExactly ((1..50000) -join ',')
            ($pool.Hosts | Where-Object HostName -EQ $doomed.HostName).WorkersLost | Should -BeGreaterThan 0
        }

        It 'completes a 50,000-item map exactly once when an ssh client is killed in the middle' {
            $pool = New-RemotePool @{ HostName = $hostA.HostName, $hostB.HostName; WorkersPerHost = 1 }
            Wait-Until { $pool.Idle -eq 2 } | Should -BeTrue
            $victim = $pool.WorkerProcessIds[0]
            $seen = 0
            $results = 1..50000 | Invoke-PoolMap -Pool $pool { $_ } | ForEach-Object {
                if (++$seen -eq 5000) { Stop-Process -Id $victim -Force }
                $_
            }
            $results.Count | Should -Be 50000
            ($results -join ',') | Should -BeExactly ((1..50000) -join ',')
            $pool.WorkersLost | Should -BeGreaterThan 0
        }

        It 'times out an item on a remote worker, ends that worker on the remote side, and runs the rest' {
            $pool = New-RemotePool @{ HostName = $hostB.HostName; WorkersPerHost = 1 }
            $pidFile = Join-Path $fixture.Dir 'hung-worker.pid'
            $results = 1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 1 -ItemTimeoutSeconds 3 -ErrorVariable timeouts -ErrorAction SilentlyContinue {
                if ($_ -eq 2) { Set-Content -LiteralPath $using:pidFile -Value $PID; Start-Sleep -Seconds 600 }
                $_
            }
            $results | Should -Be 1, 3, 4
            $timeouts.Count | Should -Be 1
            $timeouts[0].FullyQualifiedErrorId | Should -BeLike 'PoolItemTimeout,*'
            # The remote worker that hung (this machine plays the host) read EOF when its ssh was killed, and exited.
            Wait-ProcessGone @([int](Get-Content -LiteralPath $pidFile)) | Should -BeNullOrEmpty
        }

        It 'leaves no process on the remote side after Remove-ProcessPool' {
            $quiet = Start-TestSshd $fixture
            $pool = New-ProcessPool -Name ('remote-rm-' + [guid]::NewGuid().ToString('N').Substring(0, 6)) -HostName $quiet.HostName -WorkersPerHost 2 @ssh
            1..50 | Invoke-PoolMap -Pool $pool { $_ } | Should -HaveCount 50
            @(Get-RemoteProcesses $quiet).Count | Should -BeGreaterThan 0
            Remove-ProcessPool -Pool $pool
            Wait-Until { @(Get-RemoteProcesses $quiet).Count -eq 0 } -TimeoutSeconds 20 | Should -BeTrue
        }

        It 'ends the processes an item started on a remote worker when the pool is removed' -Skip:$IsWindows {
            $quiet = Start-TestSshd $fixture
            $pool = New-ProcessPool -Name ('remote-tree-' + [guid]::NewGuid().ToString('N').Substring(0, 6)) -HostName $quiet.HostName -WorkersPerHost 1 @ssh
            $sleepers = @()
            try {
                $sleepers = Get-ProcessIdentity (Invoke-PoolMap -Pool $pool -InputObject 1 -ArgumentList $SpawnSleepers { param($spawn) & ([scriptblock]::Create($spawn)) })
                $sleepers.Count | Should -Be 2
                Remove-ProcessPool -Pool $pool
                Wait-ProcessEnded $sleepers -TimeoutSeconds 20 | Should -BeNullOrEmpty
                Wait-Until { @(Get-RemoteProcesses $quiet).Count -eq 0 } -TimeoutSeconds 20 | Should -BeTrue
            }
            finally {
                Stop-TestProcess $sleepers
                Remove-ProcessPool -Pool $pool -Force -ErrorAction SilentlyContinue
            }
        }

        It 'ends the processes an item started on a remote worker when that worker''s connection is killed' -Skip:$IsWindows {
            $quiet = Start-TestSshd $fixture
            $pool = New-RemotePool @{ HostName = $quiet.HostName; WorkersPerHost = 1 }
            $sleepers = @()
            try {
                $sleepers = Get-ProcessIdentity (Invoke-PoolMap -Pool $pool -InputObject 1 -ArgumentList $SpawnSleepers { param($spawn) & ([scriptblock]::Create($spawn)) })
                $worker = $pool.WorkerProcessIds[0]
                Stop-Process -Id $worker -Force # the local ssh: the remote worker reads end of input
                Wait-ProcessEnded $sleepers -TimeoutSeconds 20 | Should -BeNullOrEmpty
                # The pool replaces the worker; the one that was killed left nothing on the host.
                1..3 | Invoke-PoolMap -Pool $pool { $_ } | Should -Be 1, 2, 3
            }
            finally { Stop-TestProcess $sleepers }
        }

        It 'leaves no process on the remote side when the caller is killed with SIGKILL' -Skip:$IsWindows {
            $quiet = Start-TestSshd $fixture
            $dir = Join-Path $fixture.Dir ('caller-' + [guid]::NewGuid().ToString('N').Substring(0, 6))
            $null = New-Item -ItemType Directory -Path $dir
            $caller = {
                param($module, $dir, $spawn, $hostName, $key, $known, $remotePowerShell)
                Import-Module $module
                $pool = New-ProcessPool -HostName $hostName -WorkersPerHost 2 -KeyFilePath $key -RemotePowerShell $remotePowerShell `
                    -Options @{ UserKnownHostsFile = $known; GlobalKnownHostsFile = '/dev/null'; IdentitiesOnly = 'yes' }
                $job = 1 | Invoke-PoolMap -Pool $pool -AsJob -ArgumentList $spawn {
                    param($spawn)
                    $sleepers = & ([scriptblock]::Create($spawn))
                    Add-Content -LiteralPath (Join-Path $using:dir 'sleepers.txt') -Value $sleepers
                    Wait-Process -Id $sleepers[0]
                }
                while (@(Get-Content -ErrorAction SilentlyContinue (Join-Path $dir 'sleepers.txt')).Count -lt 2) { Start-Sleep -Milliseconds 50 }
                Set-Content -LiteralPath (Join-Path $dir 'caller.txt') -Value (@($PID) + $pool.GetAllStartedProcessIds())
                Start-Sleep 600
            }
            $arguments = @((Get-Module ProcessPool).Path, $dir, $SpawnSleepers, $quiet.HostName, $fixture.KeyFilePath, $fixture.KnownHosts, $fixture.RemotePowerShell)
            $session = Start-ChildSession $caller.ToString() $arguments (Join-Path $dir 'out.txt')
            $sleepers = @(); $local = @()
            try {
                Wait-Until { (Test-Path (Join-Path $dir 'caller.txt')) -and @(Get-Content (Join-Path $dir 'caller.txt')).Count -ge 3 } -TimeoutSeconds 120 |
                    Should -BeTrue -Because (Get-Content -Raw -ErrorAction SilentlyContinue (Join-Path $dir 'out.txt.err'))
                $sleepers = @(Get-ProcessIdentity (Get-Content (Join-Path $dir 'sleepers.txt')))
                $ids = @(Get-Content (Join-Path $dir 'caller.txt'))
                $local = @(Get-ProcessIdentity $ids -IgnoreEnded)
                @(Get-RemoteProcesses $quiet).Count | Should -BeGreaterThan 0
                kill -KILL $ids[0]
                Wait-ProcessEnded $local -TimeoutSeconds 30 | Should -BeNullOrEmpty -Because 'the caller and its ssh clients are gone'
                Wait-ProcessEnded $sleepers -TimeoutSeconds 30 | Should -BeNullOrEmpty -Because 'the remote workers end what their items started'
                Wait-Until { @(Get-RemoteProcesses $quiet).Count -eq 0 } -TimeoutSeconds 30 | Should -BeTrue -Because "left: $(@(Get-RemoteProcesses $quiet) -join ', ')"
            }
            finally {
                Stop-TestProcess ($sleepers + $local)
                if (-not $session.HasExited) { Stop-Process -Id $session.Id -Force -ErrorAction SilentlyContinue }
            }
        }

        It 'leaves no process on the remote side after Ctrl+C' {
            $quiet = Start-TestSshd $fixture
            $pool = New-ProcessPool -Name ('remote-stop-' + [guid]::NewGuid().ToString('N').Substring(0, 6)) -HostName $quiet.HostName -WorkersPerHost 2 @ssh
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript('param($m, $p) Import-Module $m; 1..100 | Invoke-PoolMap -Pool $p -ChunkSize 1 { Start-Sleep 600; $_ }').AddArgument((Get-Module ProcessPool).Path).AddArgument($pool)
                $null = $ps.BeginInvoke()
                Wait-Until { $pool.Busy -eq 2 } | Should -BeTrue
                $ps.Stop()
                $ps.InvocationStateInfo.State | Should -Be 'Stopped'
                Wait-Until { @(Get-RemoteProcesses $quiet).Count -eq 0 } -TimeoutSeconds 20 | Should -BeTrue
            }
            finally {
                $ps.Dispose()
                Remove-ProcessPool -Pool $pool -Force
            }
        }
    }
}
