"""``python -m motcua.mock_services.agency --port P --data-dir D --gateway-url URL …`` (options: `AgencyConfig`)."""

from motcua.mock_services.agency.app import main

if __name__ == "__main__":
    main()
