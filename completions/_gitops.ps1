
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'gitops' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'gitops'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'gitops' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('quickstart', 'quickstart', [CompletionResultType]::ParameterValue, 'Create a sample repository to try gitops on (offline)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Set up an existing repository: `.gitops.yaml` and the environment branches')
            [CompletionResult]::new('feature', 'feature', [CompletionResultType]::ParameterValue, 'Work on feature branches cut from the first environment')
            [CompletionResult]::new('image', 'image', [CompletionResultType]::ParameterValue, 'Work with the image tags an environment runs')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Promote into ENV: build the promotion branch and open its pull request')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show what each environment runs, what is waiting and what drifted')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what promoting ENV would change')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check that every configuration repository follows the branch strategy')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the shell completion script for SHELL')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'gitops;quickstart' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'gitops;init' {
            [CompletionResult]::new('--environments', '--environments', [CompletionResultType]::ParameterName, 'The environments, in promotion order')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'An environment''s branch, when not its name (repeatable)')
            [CompletionResult]::new('--tags', '--tags', [CompletionResultType]::ParameterName, 'An environment''s tag policy: commit-sha, semver-rc, semver, any, regex:<p> (repeatable)')
            [CompletionResult]::new('--promotion', '--promotion', [CompletionResultType]::ParameterName, 'An environment''s promotion mode: auto-merge or pull-request (repeatable)')
            [CompletionResult]::new('--images', '--images', [CompletionResultType]::ParameterName, 'The team''s images, as name patterns (registry.example.com/shop/*); the default is proposed from the images the default branch runs. An empty value writes no `images:` (every image is then the team''s)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Accept the defaults for every question not answered by a flag, and push')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Accept the defaults for every question not answered by a flag, and push')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'gitops;feature' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Fetch origin, create NAME from `origin/<first environment>` (not from a stale local branch), check it out and set it to push to `origin/NAME`')
            [CompletionResult]::new('finish', 'finish', [CompletionResultType]::ParameterValue, 'Push the current feature branch and open its pull request into the first environment, or refresh the one already open. Refuses on an environment branch')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'gitops;feature;start' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Branch off this environment instead of the first one')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not fetch: branch off the local environment branch')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'gitops;feature;finish' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--draft', '--draft', [CompletionResultType]::ParameterName, 'Open the pull request as a draft')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be pushed and the pull request; push nothing (no token needed)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document: action, branch, pull_request')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'gitops;feature;help' {
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Fetch origin, create NAME from `origin/<first environment>` (not from a stale local branch), check it out and set it to push to `origin/NAME`')
            [CompletionResult]::new('finish', 'finish', [CompletionResultType]::ParameterValue, 'Push the current feature branch and open its pull request into the first environment, or refresh the one already open. Refuses on an environment branch')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'gitops;feature;help;start' {
            break
        }
        'gitops;feature;help;finish' {
            break
        }
        'gitops;feature;help;help' {
            break
        }
        'gitops;image' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set IMAGE''s tag to TAG on ENV''s branch, through a pull request: checks TAG against ENV''s policy and refuses a downgrade, changes only the bytes of the tag in every manifest that runs IMAGE, commits on `gitops/image-<env>-<name>` from `origin/<env>`, pushes and opens (or refreshes) the pull request — with auto-merge for `auto-merge` environments. One branch and one pull request per environment and image: a newer tag refreshes them')
            [CompletionResult]::new('tags', 'tags', [CompletionResultType]::ParameterValue, 'List IMAGE''s tags in its registry and, for each environment, which ones its tag policy accepts and which one `image update` would take: the newest accepted tag that is newer than every tag the environment runs (1.3.0-rc.10 is newer than 1.3.0-rc.9; never a downgrade). `commit-sha` tags are ordered by their images'' creation times, read from the registry for the accepted tags only. Credentials come from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) and $REGISTRY_AUTH_FILE, with their credential helpers; anonymous otherwise')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Update every team image (config `images:`) each environment runs to the newest tag its policy accepts in the registry, when newer than the one it runs: for each, what `image set IMAGE TAG --env ENV` does (one branch and one pull request per environment and image, auto-merge per the environment''s promotion mode). Each image''s tags are listed once for all environments. Exits 3 when a registry or the forge could not be reached, after doing the rest')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'gitops;image;set' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the change; push nothing (no token needed)')
            [CompletionResult]::new('--allow-downgrade', '--allow-downgrade', [CompletionResultType]::ParameterName, 'Allow a tag older than the one the environment runs')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document: action, branch, pull_request, ...')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'gitops;image;tags' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Only this environment (repeat for several); all by default')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document: the tags, and per environment what it accepts and would take')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'gitops;image;update' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Only this environment (repeat for several); all by default')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Only this image: a full name or its last path part, as `image set` takes it (repeat for several); every team image by default')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be updated; push nothing (no branch, no pull request)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document: a row per environment and image')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'gitops;image;help' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set IMAGE''s tag to TAG on ENV''s branch, through a pull request: checks TAG against ENV''s policy and refuses a downgrade, changes only the bytes of the tag in every manifest that runs IMAGE, commits on `gitops/image-<env>-<name>` from `origin/<env>`, pushes and opens (or refreshes) the pull request — with auto-merge for `auto-merge` environments. One branch and one pull request per environment and image: a newer tag refreshes them')
            [CompletionResult]::new('tags', 'tags', [CompletionResultType]::ParameterValue, 'List IMAGE''s tags in its registry and, for each environment, which ones its tag policy accepts and which one `image update` would take: the newest accepted tag that is newer than every tag the environment runs (1.3.0-rc.10 is newer than 1.3.0-rc.9; never a downgrade). `commit-sha` tags are ordered by their images'' creation times, read from the registry for the accepted tags only. Credentials come from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) and $REGISTRY_AUTH_FILE, with their credential helpers; anonymous otherwise')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Update every team image (config `images:`) each environment runs to the newest tag its policy accepts in the registry, when newer than the one it runs: for each, what `image set IMAGE TAG --env ENV` does (one branch and one pull request per environment and image, auto-merge per the environment''s promotion mode). Each image''s tags are listed once for all environments. Exits 3 when a registry or the forge could not be reached, after doing the rest')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'gitops;image;help;set' {
            break
        }
        'gitops;image;help;tags' {
            break
        }
        'gitops;image;help;update' {
            break
        }
        'gitops;image;help;help' {
            break
        }
        'gitops;promote' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Promote from this environment instead of ENV''s upstream')
            [CompletionResult]::new('--set-image', '--set-image', [CompletionResultType]::ParameterName, 'The tag for an image ENV does not run yet (repeatable), e.g. `--set-image search=1.0.0`')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan, the title and the body; push nothing (no token needed)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (needed without a terminal for `confirm: true` environments)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (needed without a terminal for `confirm: true` environments)')
            [CompletionResult]::new('--draft', '--draft', [CompletionResultType]::ParameterName, 'Open the pull request as a draft')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (see the README)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'gitops;status' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (see the README for its shape)')
            [CompletionResult]::new('--no-fetch', '--no-fetch', [CompletionResultType]::ParameterName, 'Do not fetch origin; use what was fetched last')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'gitops;diff' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Promote from this environment instead of ENV''s upstream')
            [CompletionResult]::new('--set-image', '--set-image', [CompletionResultType]::ParameterName, 'The tag for an image ENV does not run yet (repeatable), as `promote` takes it')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--patch', '--patch', [CompletionResultType]::ParameterName, 'Also print the unified text diff of the changed files')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (see the README for its shape)')
            [CompletionResult]::new('--exit-code', '--exit-code', [CompletionResultType]::ParameterName, 'Exit 1 when there is something to promote')
            [CompletionResult]::new('--no-fetch', '--no-fetch', [CompletionResultType]::ParameterName, 'Do not fetch origin; use what was fetched last')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'gitops;check' {
            [CompletionResult]::new('--workspace', '--workspace', [CompletionResultType]::ParameterName, 'A workspace file: `repos: [path-or-url, ...]`, optional `reference:`')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Check with this configuration instead of the `.gitops.yaml` on origin: try a change to it before its pull request')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (see the README)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'gitops;completions' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if gitops was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'gitops;help' {
            [CompletionResult]::new('quickstart', 'quickstart', [CompletionResultType]::ParameterValue, 'Create a sample repository to try gitops on (offline)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Set up an existing repository: `.gitops.yaml` and the environment branches')
            [CompletionResult]::new('feature', 'feature', [CompletionResultType]::ParameterValue, 'Work on feature branches cut from the first environment')
            [CompletionResult]::new('image', 'image', [CompletionResultType]::ParameterValue, 'Work with the image tags an environment runs')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Promote into ENV: build the promotion branch and open its pull request')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show what each environment runs, what is waiting and what drifted')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what promoting ENV would change')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check that every configuration repository follows the branch strategy')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the shell completion script for SHELL')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'gitops;help;quickstart' {
            break
        }
        'gitops;help;init' {
            break
        }
        'gitops;help;feature' {
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Fetch origin, create NAME from `origin/<first environment>` (not from a stale local branch), check it out and set it to push to `origin/NAME`')
            [CompletionResult]::new('finish', 'finish', [CompletionResultType]::ParameterValue, 'Push the current feature branch and open its pull request into the first environment, or refresh the one already open. Refuses on an environment branch')
            break
        }
        'gitops;help;feature;start' {
            break
        }
        'gitops;help;feature;finish' {
            break
        }
        'gitops;help;image' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set IMAGE''s tag to TAG on ENV''s branch, through a pull request: checks TAG against ENV''s policy and refuses a downgrade, changes only the bytes of the tag in every manifest that runs IMAGE, commits on `gitops/image-<env>-<name>` from `origin/<env>`, pushes and opens (or refreshes) the pull request — with auto-merge for `auto-merge` environments. One branch and one pull request per environment and image: a newer tag refreshes them')
            [CompletionResult]::new('tags', 'tags', [CompletionResultType]::ParameterValue, 'List IMAGE''s tags in its registry and, for each environment, which ones its tag policy accepts and which one `image update` would take: the newest accepted tag that is newer than every tag the environment runs (1.3.0-rc.10 is newer than 1.3.0-rc.9; never a downgrade). `commit-sha` tags are ordered by their images'' creation times, read from the registry for the accepted tags only. Credentials come from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) and $REGISTRY_AUTH_FILE, with their credential helpers; anonymous otherwise')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Update every team image (config `images:`) each environment runs to the newest tag its policy accepts in the registry, when newer than the one it runs: for each, what `image set IMAGE TAG --env ENV` does (one branch and one pull request per environment and image, auto-merge per the environment''s promotion mode). Each image''s tags are listed once for all environments. Exits 3 when a registry or the forge could not be reached, after doing the rest')
            break
        }
        'gitops;help;image;set' {
            break
        }
        'gitops;help;image;tags' {
            break
        }
        'gitops;help;image;update' {
            break
        }
        'gitops;help;promote' {
            break
        }
        'gitops;help;status' {
            break
        }
        'gitops;help;diff' {
            break
        }
        'gitops;help;check' {
            break
        }
        'gitops;help;completions' {
            break
        }
        'gitops;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
